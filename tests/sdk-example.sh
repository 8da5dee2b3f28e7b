#!/bin/sh
# Build sdk/examples/hello out of tree against the *installed* SDK (found with
# pkg-config, as a third party would) and check that the installed trit loads
# it through TRIT_PLUGIN_PATH. Run by `make installcheck` (and so distcheck).
# Usage: sdk-example.sh DESTDIR BINDIR LIBDIR SRCDIR
set -eu
destdir=$1 bindir=$2 libdir=$3 srcdir=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-sdk-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

for f in hello.c hello.h hello_buffers.c hello_ops.c Makefile; do
	cp "$srcdir/sdk/examples/hello/$f" "$work/"
done
PKG_CONFIG_PATH="$destdir$libdir/pkgconfig"
export PKG_CONFIG_PATH
if [ -n "$destdir" ]; then PKG_CONFIG_SYSROOT_DIR=$destdir; export PKG_CONFIG_SYSROOT_DIR; fi
make -s -C "$work" CFLAGS='-O2 -Werror' >/dev/null
mkdir "$work/plugins"
mv "$work/hello.so" "$work/plugins/"

LD_LIBRARY_PATH="$destdir$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
TRIT_PLUGIN_PATH="$work/plugins" "$destdir$bindir/trit" devices --json >"$work/devices.json"
status=$(jq -r '.plugins[] | select(.name == "hello") | .status' "$work/devices.json")
origin=$(jq -r '.plugins[] | select(.name == "hello") | .origin' "$work/devices.json")
total=$(jq -r '.plugins[] | select(.name == "hello") | .devices[0].memory_total.value' "$work/devices.json")
if [ "$status" != loaded ] || [ "$origin" != TRIT_PLUGIN_PATH ] || [ "$total" = null ]; then
	echo "sdk-example: the installed trit did not load the example backend:" >&2
	cat "$work/devices.json" >&2
	exit 1
fi
# The example's own `make check`: the installed conformance suite on the ops
# it claims (the pc file names the suite without DESTDIR, so name it here).
make -s -C "$work" CONFORMANCE="$destdir$bindir/trit-conformance" check >"$work/conformance.out" 2>&1 || {
	echo "sdk-example: trit-conformance failed on the example backend:" >&2
	cat "$work/conformance.out" >&2
	exit 1
}
grep -q ' 0 failed' "$work/conformance.out" || { cat "$work/conformance.out" >&2; exit 1; }
echo "sdk-example: hello.so built against the installed SDK, loaded by the installed trit, and conformant"
