#!/bin/sh
# Regenerate the build system (configure, Makefile.in, build-aux/) from
# configure.ac and Makefile.am. Run once after cloning, then ./configure.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf --force --install --verbose
