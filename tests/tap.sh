# tap.sh - the TAP helpers the shell tests share; source it after setting
# `work` (a scratch directory) and `n=0 failed=0`:
#     . "$top_srcdir/tests/tap.sh"
# A script ends with `tap_end`, which prints the plan and fails when a test did.
# ok NAME / not_ok NAME DETAIL... / skip NAME WHY: one TAP line (details as
# diagnostics); check NAME STATUS CMD...: CMD's exit status is STATUS (its
# stdout in $work/out, stderr in $work/err); expect / absent NAME FILE
# PATTERN: an extended regular expression matches / does not match in FILE;
# jq_eq NAME FILE FILTER WANT: jq -r FILTER on FILE prints WANT; same_tokens
# NAME JSON: a run's greedy tokens equal those saved in $work/cpu-tokens.

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # NAME STATUS CMD...
	name=$1 want=$2; shift 2
	"$@" >"$work/out" 2>"$work/err"; got=$?
	if [ "$got" -eq "$want" ]; then ok "$name"; else
		not_ok "$name" "exit $got, wanted $want" "$(head -c 2000 "$work/err")"; fi
}
expect() { # NAME FILE PATTERN
	if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no match for /$3/ in:" "$(head -c 2000 "$2")"; fi
}
absent() { # NAME FILE PATTERN
	if grep -Eq -- "$3" "$2"; then not_ok "$1" "unexpected /$3/ in:" "$(head -c 2000 "$2")"; else ok "$1"; fi
}
jq_eq() { # NAME FILE FILTER WANT
	got=$(jq -r "$3" "$2" 2>&1)
	if [ "$got" = "$4" ]; then ok "$1"; else not_ok "$1" "jq '$3' gave '$got', wanted '$4'"; fi
}
same_tokens() { # NAME JSON: its .tokens are the reference run's, kept in $work/cpu-tokens
	jq -c '.tokens' "$2" >"$work/tokens"
	if cmp -s "$work/cpu-tokens" "$work/tokens"; then ok "$1"
	else not_ok "$1" "$(cat "$work/cpu-tokens")" "$(cat "$work/tokens")"; fi
}
tap_end() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
