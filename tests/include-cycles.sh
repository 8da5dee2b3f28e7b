#!/bin/sh
# include-cycles.sh - no module under runtime/ includes, directly or through
# others, a header of a module that includes its own: dependencies between
# runtime modules point one way (report on plan on estimate on model, never
# back). A module is a .c and its .h (runtime/plan.c + runtime/plan.h); an
# edge is an `#include "..."` resolved as the compiler does (the including
# file's directory, then runtime/, which is on the include path). Each cycle
# found is printed with the include lines that make it. TAP output. A tree
# with a planted cycle is checked first, so a checker that finds nothing
# cannot pass.
set -u
: "${top_srcdir:=.}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trit-cycles-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# edges ROOT: "FROM-MODULE TO-MODULE FILE:LINE" for every resolved include
edges() (
	cd "$1" || exit 1
	find . -name '*.[ch]' | sed 's|^\./||' | sort | while read -r f; do
		dir=$(dirname "$f")
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
		sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' |
		while read -r line inc; do
			if [ "$dir" != . ] && [ -f "$dir/$inc" ]; then
				to="$dir/$inc"
			elif [ -f "$inc" ]; then
				to="$inc"
			else
				continue # a header outside the tree (build-config.h)
			fi
			to=$(printf '%s\n' "$to" | sed -e 's|/\./|/|g' -e ':a' \
				-e 's|[^/][^/]*/\.\./||' -e 'ta')
			echo "${f%.[ch]} ${to%.[ch]} $f:$line"
		done
	done
)

# cycles: read edges, print each cycle found (one per back edge) as
# "a -> b -> a" followed by the include lines; exit 1 if any.
cycles() {
	awk '
	$1 != $2 {
		if (!((($1) SUBSEP ($2)) in why)) { adj[$1] = adj[$1] " " $2; node[$1]; node[$2] }
		why[$1, $2] = why[$1, $2] (why[$1, $2] == "" ? "" : ", ") $3
	}
	function dfs(u,    rest, v, p, i, s) {
		color[u] = 1; stack[++sp] = u
		rest = adj[u]
		while (rest != "") {
			sub(/^ +/, "", rest)
			p = index(rest, " ")
			if (p) { v = substr(rest, 1, p - 1); rest = substr(rest, p + 1) }
			else { v = rest; rest = "" }
			if (v == "") continue
			if (color[v] == 1) {
				for (i = sp; stack[i] != v; i--) ;
				s = ""
				for (p = i; p <= sp; p++) s = s stack[p] " -> "
				print "cycle: " s v
				for (p = i; p <= sp; p++)
					print "  " stack[p] " -> " (p < sp ? stack[p + 1] : v) ": " \
					      why[stack[p], (p < sp ? stack[p + 1] : v)]
				found = 1
			} else if (!color[v]) {
				dfs(v)
			}
		}
		sp--; color[u] = 2
	}
	END {
		for (u in node) if (!color[u]) dfs(u)
		exit found
	}'
}

echo "1..2"

# 1: a planted cycle through a subdirectory: a -> sub/b -> c -> a
mkdir -p "$tmp/tree/sub"
printf '#include "sub/b.h"\n' > "$tmp/tree/a.c"
printf '/* */\n' > "$tmp/tree/a.h"
printf '#include "../c.h"\n' > "$tmp/tree/sub/b.h"
printf '#include "a.h"\n#include "common.h"\n' > "$tmp/tree/c.c"
printf '#include "c.h"\n' > "$tmp/tree/c.h"
printf '/* */\n' > "$tmp/tree/common.h"
if out=$(edges "$tmp/tree" | cycles); then
	echo "not ok 1 - a planted cycle a -> sub/b -> c -> a is found"
	edges "$tmp/tree" | sed 's/^/# edge: /'
else
	case "$out" in
	*"a -> sub/b -> c -> a"*|*"sub/b -> c -> a -> sub/b"*|*"c -> a -> sub/b -> c"*)
		echo "ok 1 - a planted cycle a -> sub/b -> c -> a is found";;
	*)
		echo "not ok 1 - a planted cycle a -> sub/b -> c -> a is found"
		printf '%s\n' "$out" | sed 's/^/# /';;
	esac
fi

# 2: the runtime
[ -d "$top_srcdir/runtime" ] || { echo "Bail out! no $top_srcdir/runtime"; exit 1; }
if out=$(edges "$top_srcdir/runtime" | cycles); then
	echo "ok 2 - runtime/ has no include cycle between modules"
else
	echo "not ok 2 - runtime/ has no include cycle between modules"
	printf '%s\n' "$out" | sed 's/^/# /'
fi
