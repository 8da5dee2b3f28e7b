// tokenizer-crosscheck.mjs - tokenizes the same texts with llama.cpp (the
// prebuilt CPU build in node-llama-cpp's npm packages, vocab_only) and with
// trit (tests/tokenizer-batch, the public API; a few also through `trit
// tokenize --json`), on vocabulary-only GGUF files made from real
// tokenizer.json files, and compares the ids, as TAP.
//
// usage: node tokenizer-crosscheck.mjs NPMDIR BATCH TRIT LABEL=MODEL.gguf...
//
// Each text runs four ways: add_special 0/1 x parse_special 0/1.
// node-llama-cpp tokenizes with add_special off; with it on, trit must give
// llama.cpp's BOS (shouldPrependBosToken) + ids + EOS (shouldAppendEosToken).
//
// Bytes: trit receives each text's exact bytes (hex); llama.cpp receives a
// JS string, so a text that is not valid UTF-8 reaches it decoded by
// TextDecoder (each bad byte U+FFFD). For byte-level BPE, llama.cpp turns
// each bad byte into U+FFFD itself, so the malformed texts here are ones
// where both rules give the same string (single stray bytes). SentencePiece
// keeps bad bytes as byte tokens, which no JS string can carry: those texts
// are skipped there (tests/check_tokenizer.c covers them).
import fs from "node:fs";
import path from "node:path";
import {execFileSync} from "node:child_process";
import {pathToFileURL} from "node:url";

const [npmdir, batch, trit, ...vocabs] = process.argv.slice(2);
if (!npmdir || !batch || !trit || vocabs.length === 0) {
	console.log("Bail out! usage: tokenizer-crosscheck.mjs NPMDIR BATCH TRIT LABEL=MODEL.gguf...");
	process.exit(1);
}
const nlcDir = path.resolve(npmdir, "node_modules", "node-llama-cpp");
const nlcPkg = JSON.parse(fs.readFileSync(path.join(nlcDir, "package.json"), "utf8"));
const {getLlama, LlamaLogLevel} = await import(pathToFileURL(path.join(nlcDir, nlcPkg.exports["."].import)).href);

// ---------------------------------------------------------------- texts
const S = (s) => Buffer.from(s, "utf8");
const B = (...bytes) => Buffer.from(bytes);
const cat = (...parts) => Buffer.concat(parts.map((p) => (typeof p === "string" ? S(p) : p)));
const texts = [];
const add = (t, kind = "text") => texts.push({bytes: typeof t === "string" ? S(t) : t, kind});

// ASCII words, sentences, punctuation
for (const t of ["", "a", "A", "hello", "Hello", "Hello world", "Hello world!", " Hello", "  Hello",
	"hello  world", "The quick brown fox jumps over the lazy dog.",
	"HELLO WORLD", "camelCaseWord", "snake_case_word", "kebab-case-word", "x=1;y=2", "a+b=c",
	"foo(bar, baz)", "if (x > 0) { return -x; }", "#include <stdio.h>", "path/to/file.txt",
	"user@example.com", "https://example.org/a?b=c&d=e#f", "...", "!!!???", "--- ***", "$100.00",
	"50% off", "a|b|c", "~tilde^caret`back`", "[brackets] {braces} (parens)", "\"quoted\" 'single'",
	"semi;colon:colon", "\\backslash\\", "@#$%^&*", "<html><body>x</body></html>", "a.b.c.d",
	"end.", "Mr. Smith's dog.", "e.g. i.e. etc.", "1st 2nd 3rd 4th"])
	add(t);
// contractions
for (const t of ["it's", "It's", "IT'S", "don't", "DON'T", "we're", "WE'RE", "they've", "I'm", "I'M",
	"we'll", "WE'LL", "he'd", "HE'D", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'x", "''s",
	"rock'n'roll", "'tis", "can't've", "y'all'd've", "O'Neil's", "l'homme", "' s", "'S'T'RE"])
	add(t);
// whitespace: runs, tabs, newlines, CR
for (const t of [" ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r", "\r\r\n",
	"a b", "a  b", "a   b", "a    b", "a\tb", "a\t\tb", "a\nb", "a\n\nb", "a\r\nb", "a \nb", "a\n b",
	"a \n b", " a ", "  a  ", "a ", "a  ", "\ta", "\na", "x\n\n\n\ny", "x \t \n \t y", "   \n   ",
	"line1\nline2\nline3\n", "  indented\n    more\n", "trailing   ", "\u00a0nbsp", "a\u00a0b",
	"a\u2003b", "a\u3000b", "a\u2028b", "\u000b\u000c", "x\u0085y", "tab\tseparated\tvalues"])
	add(t);
// digits, long numbers
for (const t of ["0", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678901234567890",
	"3.14159", "1,000,000", "1e10", "-42", "+7", "0x1F", "v1.2.3", "2024-01-01", "12:30:45",
	"abc123def", "123abc", "a1b2c3", " 123", "  1234", "٣٤٥", "१२३", "½ ¾", "①②③", "Ⅻ", "x²+y³",
	"１２３"])
	add(t);
for (let n = 1; n <= 24; n++) add("9".repeat(n) + " " + "7".repeat(n % 5 + 1));
// accents, scripts, CJK, emoji
for (const t of ["café", "naïve résumé", "Ångström", "über", "ÉCOLE", "façade", "smörgåsbord",
	"e\u0301", "cafe\u0301", "Привет мир", "Ελληνικά", "עברית", "مرحبا بالعالم", "हिन्दी", "ไทย",
	"한국어 텍스트", "日本語のテキスト", "中文文本", "汉字漢字", "カタカナ", "ひらがな",
	"😀", "😀😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "a😀b", " 😀", "😀 ", "❤️", "✓ ✗", "→ ← ↑ ↓",
	"™ © ®", "€ £ ¥", "∑∫√∞", "ℕℤℚ", "ﬁ ligature", "Ｆｕｌｌｗｉｄｔｈ", "Hello 世界", "мир123",
	"日本語123", "العربية 2024", "mixed: Ελλάδα, 中国, россия!", "ǅ ǈ ǋ", "ß ẞ", "İstanbul",
	"\u200b zero width", "a\u200db", "\ufeffBOM", "\u{1F600}\u{1F601}\u{1F602}", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
	"\u{10348}", "x\u0300\u0301\u0302", "\u0301start", "ⓐⓑⓒ", "Ǆ", "\u00ad soft hyphen"])
	add(t);
// mixed and longer texts
add("The year 2024 was 366 days long; it's a leap year (unlike 2023).");
add("def f(x):\n\treturn x ** 2  # square\n\nprint(f(12345))\n");
add("Q: What's 2+2?\nA: It's 4.\n\n");
add("  Multiple   spaces   between   words  ");
add("Numbers: 1 22 333 4444 55555 666666");
add("Ünïcödé and ASCII mixed with 数字 123 and emoji 🎉!");
add("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.");
add("{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}");
add("SELECT * FROM users WHERE id = 42;");
add("a".repeat(100));
add(" ".repeat(50) + "x");
add("ab ".repeat(40));
add("\n".repeat(10) + "end");
add("🙂".repeat(10));
add("中".repeat(30));
for (const w of ["word", "Token", "ize", "ing", "tion"])
	for (const sep of [" ", "\n", "\t", ", ", ". "])
		add([w, w + "s", w.toUpperCase()].join(sep));
// random mixtures (a fixed seed, so every run tokenizes the same texts)
{
	const pieces = [" ", "  ", "\n", "\t", "\r\n", "a", "Z", "the", "The", "ing", "1", "42", "2024", "'s", "'LL",
		"é", "É", "ß", "中", "文", "😀", "🇫🇷", "١", "—", "…", ".", ",", "!?", "$", "<", ">", "|", "\u00a0",
		"\u3000", "\u0301", "<|eot_id|>", "<s>", "</s>", "_", "-", "\\"];
	let seed = 20240601;
	const rnd = (n) => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
	for (let i = 0; i < 100; i++) {
		let t = "";
		for (let k = rnd(25); k > 0; k--) t += pieces[rnd(pieces.length)];
		add(t, "random");
	}
}
// special tokens written in the text
for (const t of ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>Hello", "Hi<|eot_id|>",
	"<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>",
	"<|reserved_special_token_5|>x", "a<|eot_id|><|eot_id|>b", "<|eot_id", "<|eot_id|> spaced",
	"<s>", "</s>", "<unk>", "<s>Hello</s>", "Hello</s> world<s> again", " <s> ", "<s><s>",
	"text<unk>text", "<0x41>", "<|im_start|>"])
	add(t, "special");
// malformed UTF-8 (stray bytes: both decoders give one U+FFFD each)
add(B(0xff), "invalid");
add(B(0x80), "invalid");
add(cat("abc", B(0xff), "def"), "invalid");
add(cat("a", B(0x80, 0x80), "b"), "invalid");
add(cat(B(0xc3), "("), "invalid");
add(cat("x ", B(0xfe), " y"), "invalid");
add(cat(B(0xc0), "A"), "invalid");
add(cat("中", B(0xbf), "文"), "invalid");

// ---------------------------------------------------------------- TAP
let nTest = 0, nFail = 0;
const ok = (cond, name, diag = []) => {
	nTest++;
	if (!cond) nFail++;
	console.log(`${cond ? "ok" : "not ok"} ${nTest} - ${name}`);
	for (const d of diag) console.log(`# ${d}`);
};
const show = (b) => JSON.stringify(b.toString("utf8")).slice(0, 120);

const llama = await getLlama({gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error});
const modes = [[0, 0], [0, 1], [1, 0], [1, 1]];
let matched = 0, compared = 0, firstMismatch = null;
for (const spec of vocabs) {
	const [label, file] = spec.split("=");
	let model;
	try {
		model = await llama.loadModel({modelPath: file, vocabOnly: true, gpuLayers: 0});
	} catch (e) {
		ok(false, `${label}: llama.cpp loads ${file}`, [String(e.message ?? e)]);
		continue;
	}
	const spm = label.startsWith("spm");
	const todo = texts.filter((t) => !(spm && t.kind === "invalid"));
	const input = todo.flatMap((t) => modes.map(([a, p]) => `${a}${p} ${t.bytes.toString("hex")}\n`)).join("");
	const out = execFileSync(batch, [file], {input, maxBuffer: 1 << 28}).toString().split("\n");
	const bos = model.tokens.shouldPrependBosToken ? [model.tokens.bos] : [];
	const eos = model.tokens.shouldAppendEosToken ? [model.tokens.eos] : [];
	let k = 0, labelMatched = 0;
	for (const t of todo) {
		const diags = [];
		for (const [a, p] of modes) {
			const core = Array.from(model.tokenize(t.bytes.toString("utf8"), p === 1));
			const want = (a ? [...bos, ...core, ...eos] : core).join(" ");
			const got = out[k++];
			compared++;
			if (got === want) { matched++; continue; }
			diags.push(`add_special=${a} parse_special=${p} text ${show(t.bytes)} (hex ${t.bytes.toString("hex")})`,
				`  llama.cpp: [${want}]`, `  trit:      [${got}]`);
			firstMismatch ??= diags.slice();
		}
		if (!diags.length) labelMatched++;
		ok(diags.length === 0, `${label}: ${t.kind} ${show(t.bytes)}`, diags);
	}
	console.log(`# ${label}: ${labelMatched}/${todo.length} texts identical in all four modes`);
	// the CLI says the same as the library
	for (const t of todo.slice(0, 200).filter((_, i) => i % 40 === 3)) {
		const tmp = path.join(path.dirname(file), "cli-text.bin");
		fs.writeFileSync(tmp, t.bytes);
		const j = JSON.parse(execFileSync(trit, ["tokenize", "--json", "--special", file, "--file", tmp]).toString());
		const want = [...bos, ...model.tokenize(t.bytes.toString("utf8"), true)].concat(eos);
		ok(j.ids.join(" ") === want.join(" "), `${label}: trit tokenize --json --special ${show(t.bytes)}`,
			[`llama.cpp: [${want.join(" ")}]`, `trit:      [${j.ids.join(" ")}]`]);
	}
	await model.dispose();
}
console.log(`# ${matched}/${compared} tokenizations identical (${texts.length} texts, 4 modes, ${vocabs.length} vocabularies)`);
if (firstMismatch) console.log(`# first mismatch:\n# ${firstMismatch.join("\n# ")}`);
console.log(`1..${nTest}`);
await llama.dispose();
process.exit(nFail ? 1 : 0);
