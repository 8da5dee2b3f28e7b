#!/bin/sh
# public-symbols.sh HEADER... - print, sorted and one a line, the name of every
# function the public headers declare (not define): the symbols libtrit.so
# exports (runtime/local.mk links it with this list) and tests/exports.sh
# checks against `nm -D`. It reads declarations only at file scope, outside
# comments, preprocessor lines and the `extern "C"` guard; static inline
# helpers (their prototypes and bodies), function-pointer typedefs and
# members are not symbols, so they are left out, and so are TRIT_EXPORT
# declarations: those name what a plugin exports (trit_backend_entry), not
# libtrit. It does not parse C in general: the public headers keep one
# declaration per statement, as they do.
set -eu
test $# -gt 0 || { echo "usage: $0 HEADER..." >&2; exit 2; }
for h in "$@"; do
	test -r "$h" || { echo "$0: cannot read $h" >&2; exit 1; }
done
cat "$@" | awk '
	# comments (also across lines) become a space
	{
		line = $0
		out = ""
		while (length(line)) {
			if (incomment) {
				p = index(line, "*/")
				if (!p) { line = ""; break }
				line = substr(line, p + 2); incomment = 0; out = out " "
				continue
			}
			p = index(line, "/*"); q = index(line, "//")
			if (q && (!p || q < p)) { out = out substr(line, 1, q - 1); line = ""; break }
			if (!p) { out = out line; line = ""; break }
			out = out substr(line, 1, p - 1); line = substr(line, p + 2); incomment = 1
		}
		$0 = out
	}
	/^[ \t]*#[ \t]*ifdef[ \t]+__cplusplus/ { skipcpp = 1; next }
	skipcpp { if ($0 ~ /^[ \t]*#[ \t]*endif/) skipcpp = 0; next }
	cont { cont = ($0 ~ /\\$/); next }
	/^[ \t]*#/ { cont = ($0 ~ /\\$/); next }
	{
		n = length($0)
		for (i = 1; i <= n; i++) {
			c = substr($0, i, 1)
			if (c == "{") {
				if (depth == 0) { stmt = ""; }
				depth++
			} else if (c == "}") {
				depth--
			} else if (depth == 0 && c == ";") {
				decl(stmt); stmt = ""
			} else if (depth == 0) {
				stmt = stmt c
			}
		}
		if (depth == 0) stmt = stmt " "
	}
	function decl(s,    name) {
		if (s ~ /^[ \t]*(typedef|static)[ \t]/) return
		# what a plugin exports (trit_backend_entry), not libtrit
		if (s ~ /^[ \t]*TRIT_EXPORT[ \t]/) return
		# the declarator: an identifier followed by "(", not "(*name)"
		if (!match(s, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) return
		name = substr(s, RSTART, RLENGTH)
		sub(/[ \t]*\($/, "", name)
		if (substr(s, RSTART - 1, 1) == "*" && substr(s, RSTART - 2, 1) == "(") return
		print name
	}
' | sort -u
