#!/bin/sh
# exports.sh - libtrit.so exports exactly the functions the public headers
# (sdk/include/trit/*.h) declare: a symbol the headers do not declare is an
# internal leaking into the ABI, a declared one missing is a broken promise.
# Lists come from `nm -D --defined-only` and sdk/public-symbols.sh; each
# difference is named. TAP output. The list's own parser is checked first on
# a header whose answer is known, so a parser that finds nothing cannot pass.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
so="$top_builddir/runtime/.libs/libtrit.so"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trit-exports-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

if ! command -v nm >/dev/null 2>&1; then
	echo "1..0 # SKIP nm is not installed"; exit 0
fi
if [ ! -f "$so" ]; then
	echo "1..0 # SKIP $so not built (--disable-shared?)"; exit 0
fi
echo "1..4"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }

# 1: the parser on a header with every construct it must tell apart
cat > "$tmp/probe.h" <<'EOF'
/* a comment naming not_a_symbol(void); */
#define TRIT_MACRO(x) \
	macro_call(x)
typedef void (*probe_sink)(void *ctx, const char *msg);
struct probe { int (*member_fn)(int); };
int probe_declared(const char *s,
                   size_t n);
const struct probe *probe_pointer(void) TRIT_PRINTF(1, 2);
static inline int probe_inline(int x) { return helper_call(x); }
TRIT_EXPORT const struct probe *plugin_entry(void);
#ifdef __cplusplus
extern "C" {
#endif
void probe_last(void);
#ifdef __cplusplus
}
#endif
EOF
printf 'probe_declared\nprobe_last\nprobe_pointer\n' > "$tmp/probe.want"
if sh "$top_srcdir/sdk/public-symbols.sh" "$tmp/probe.h" > "$tmp/probe.got" &&
   cmp -s "$tmp/probe.want" "$tmp/probe.got"; then
	ok "public-symbols.sh finds declarations and skips comments, macros, typedefs, members, inline helpers, plugin entries"
else
	not_ok "public-symbols.sh on a known header"
	diff "$tmp/probe.want" "$tmp/probe.got" | sed 's/^/# /'
fi

# 2: the headers declare something
sh "$top_srcdir/sdk/public-symbols.sh" "$top_srcdir"/sdk/include/trit/*.h > "$tmp/declared" ||
	{ echo "Bail out! sdk/public-symbols.sh failed"; exit 1; }
if [ -s "$tmp/declared" ]; then
	ok "the public headers declare $(wc -l < "$tmp/declared") functions"
else
	not_ok "the public headers declare no function"
fi

# 3, 4: nm against the headers, both ways ('A' entries are version nodes)
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' | sort -u \
	> "$tmp/exported"
extra=$(comm -13 "$tmp/declared" "$tmp/exported")
missing=$(comm -23 "$tmp/declared" "$tmp/exported")
if [ -z "$extra" ]; then
	ok "libtrit.so exports nothing the public headers do not declare"
else
	not_ok "libtrit.so exports symbols no public header declares"
	for s in $extra; do echo "# exported but not declared: $s"; done
fi
if [ -z "$missing" ]; then
	ok "libtrit.so exports every function the public headers declare"
else
	not_ok "libtrit.so lacks functions the public headers declare"
	for s in $missing; do echo "# declared but not exported: $s"; done
fi
