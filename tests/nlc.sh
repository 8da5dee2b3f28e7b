# nlc.sh - sourced by the tests that run llama.cpp through node-llama-cpp's
# prebuilt CPU binary (.ci/deps installs node-llama-cpp@3.22.1 into
# ~/.cache/trit/npm). nlc_find sets pkgdir (the npm folder holding it) and
# forbids node-llama-cpp to fetch or build anything; or sets nlc_why and
# returns 1, for the caller to skip with. Installs nothing.
nlc_find() {
	nlc_why=""
	pkgdir=""
	if ! command -v node >/dev/null 2>&1; then
		nlc_why="node is not installed (.ci/deps installs it)"
		return 1
	fi
	nlc_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
	if [ "$nlc_major" -lt 20 ]; then
		nlc_why="node $(node --version 2>/dev/null) is too old: node-llama-cpp needs node >= 20"
		return 1
	fi
	case "$(uname -s)-$(uname -m)" in
	Linux-x86_64) nlc_bin=linux-x64 ;;
	Linux-aarch64) nlc_bin=linux-arm64 ;;
	*)
		nlc_why="no prebuilt llama.cpp of node-llama-cpp for $(uname -s) $(uname -m)"
		return 1
		;;
	esac
	for d in "${TRIT_NPM_DIR:-}" "${top_builddir:-.}/tests/npm" "${HOME:-/nonexistent}/.cache/trit/npm"; do
		if [ -n "$d" ] && [ -f "$d/node_modules/node-llama-cpp/package.json" ] &&
			[ -d "$d/node_modules/@node-llama-cpp/$nlc_bin/bins" ]; then
			pkgdir=$d
			break
		fi
	done
	if [ -z "$pkgdir" ]; then
		nlc_why="node-llama-cpp with its $nlc_bin binary not found in \$TRIT_NPM_DIR, ${top_builddir:-.}/tests/npm or ~/.cache/trit/npm (run .ci/deps)"
		return 1
	fi
	NODE_LLAMA_CPP_SKIP_DOWNLOAD=true
	export NODE_LLAMA_CPP_SKIP_DOWNLOAD
}
