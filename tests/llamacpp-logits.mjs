// llamacpp-logits.mjs - llama.cpp's reference outputs for a model and a
// sequence of token ids (ids, so no tokenizer is involved): the raw logits
// over the whole vocabulary at the prompt's last position, and a 32-token
// continuation, greedy or teacher-forced from another run's tokens, with
// each step's choice, top-2 margin and top logits. llama.cpp is the prebuilt
// CPU build in node-llama-cpp's npm packages (installed by .ci/deps); it is
// run twice on fresh contexts to record whether it is deterministic.
//
// usage: node llamacpp-logits.mjs --npm NPMDIR --model FILE.gguf --tokens 1,2,3
//            [--n-predict 32] [--threads 1] [--ctx 256] [--top 8] [--runs 2]
//            [--follow REF.json] [--step-logits] -o OUT.json
// Writes OUT.json (format "trit-llamacpp-logits/1", see tests/refmodels.md);
// exits 1 with a sentence on stderr when anything fails.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {pathToFileURL} from "node:url";

const prog = "llamacpp-logits";
const die = (msg) => { console.error(`${prog}: ${msg}`); process.exit(1); };

// ---------------------------------------------------------------- options
function parseArgs(argv) {
	const o = {nPredict: 32, threads: 1, ctx: 256, top: 8, runs: 2, stepLogits: false};
	const num = (name, v, lo, hi) => {
		if (!/^\d+$/.test(v ?? "") || +v < lo || +v > hi) die(`${name} ${v}: expected a whole number from ${lo} to ${hi}`);
		return +v;
	};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i], v = argv[i + 1];
		switch (a) {
		case "--npm": o.npm = v; i++; break;
		case "--model": o.model = v; i++; break;
		case "--tokens":
			if (!/^\d+(,\d+)*$/.test(v ?? "")) die(`--tokens ${v}: expected token ids separated by commas, e.g. 1,2,3`);
			o.tokens = v.split(",").map(Number); i++; break;
		case "--n-predict": o.nPredict = num(a, v, 0, 4096); i++; break;
		case "--threads": o.threads = num(a, v, 1, 256); i++; break;
		case "--ctx": o.ctx = num(a, v, 16, 1 << 20); i++; break;
		case "--top": o.top = num(a, v, 2, 1000); i++; break;
		case "--runs": o.runs = num(a, v, 1, 10); i++; break;
		case "--follow": o.follow = v; i++; break;
		case "--step-logits": o.stepLogits = true; break;
		case "-o": o.out = v; i++; break;
		default: die(`unknown argument ${a}; see the usage at the top of ${prog}.mjs`);
		}
	}
	for (const k of ["npm", "model", "out"]) if (!o[k]) die(`--${k === "out" ? "o" : k} is required`);
	if (o.follow) {
		let ref;
		try { ref = JSON.parse(fs.readFileSync(o.follow, "utf8")); } catch (e) { die(`--follow ${o.follow}: ${e.message}`); }
		if (!Array.isArray(ref?.continuation?.tokens) || !Array.isArray(ref.prompt)) die(`--follow ${o.follow}: not a ${prog} output`);
		if (o.tokens && o.tokens.join() !== ref.prompt.join()) die(`--follow ${o.follow}: its prompt differs from --tokens`);
		o.tokens = ref.prompt;
		o.forced = ref.continuation.tokens;
		o.nPredict = Math.min(o.nPredict, o.forced.length);
	}
	if (!o.tokens?.length) die("--tokens is required (or --follow, which gives the prompt)");
	if (o.tokens.length + o.nPredict > o.ctx) die(`--ctx ${o.ctx} is too small for ${o.tokens.length} + ${o.nPredict} tokens`);
	return o;
}

// ---------------------------------------------------------------- llama.cpp
async function loadBinding(npm) {
	const dir = path.resolve(npm, "node_modules", "node-llama-cpp");
	let pkg;
	try { pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")); } catch (e) { die(`no node-llama-cpp in ${npm}: ${e.message}`); }
	const mod = await import(pathToFileURL(path.join(dir, pkg.exports["."].import)).href);
	return {mod, version: pkg.version};
}

// Logits of one step as a Float64Array indexed by token id (every id present).
function denseLogits(map, nVocab) {
	if (!map || map.size !== nVocab) die(`llama.cpp returned ${map?.size ?? 0} logits, the vocabulary has ${nVocab}`);
	const a = new Float64Array(nVocab).fill(NaN);
	for (const [t, l] of map) a[t] = l;
	if (a.some(Number.isNaN)) die("llama.cpp's logits miss some token ids");
	return a;
}

// The top n (id, logit) pairs, highest first; ties by lower id.
function topOf(logits, n) {
	const top = [];
	for (let t = 0; t < logits.length; t++) {
		if (top.length === n && logits[t] <= top[n - 1][1]) continue;
		let j = top.length < n ? top.length : n - 1;
		while (j > 0 && top[j - 1][1] < logits[t]) j--;
		top.splice(j, 0, [t, logits[t]]);
		if (top.length > n) top.pop();
	}
	return top;
}

const logSumExp = (a) => { const m = a.reduce((x, y) => Math.max(x, y), -Infinity); let s = 0; for (const x of a) s += Math.exp(x - m); return m + Math.log(s); };

// One evaluation: the prompt, then one token at a time. Step i is the
// prediction after the prompt and tokens[0..i-1]; tokens[i] is its argmax
// (greedy) or the followed run's token (forced).
async function evaluate(model, o, nVocab) {
	const ctx = await model.createContext({contextSize: o.ctx, threads: o.threads, batchSize: Math.min(o.ctx, 512), sequences: 1});
	const seq = ctx.getSequence();
	const want = {generateNext: {logits: true, token: true}};
	const steps = [], tokens = [], all = [];
	let input = o.tokens.map((t, i) => (i === o.tokens.length - 1 ? [t, want] : t));
	for (let i = 0; i < Math.max(1, o.nPredict); i++) {
		const res = await seq.controlledEvaluate(input);
		const next = res[res.length - 1]?.next;
		const logits = denseLogits(next?.logits, nVocab);
		const top = topOf(logits, o.top);
		if (next.token !== top[0][0] && logits[next.token] !== top[0][1])
			die(`llama.cpp's greedy token ${next.token} is not the argmax ${top[0][0]} of its logits`);
		all.push(logits);
		steps.push({argmax: top[0][0], logit: top[0][1], second: top[1][0], second_logit: top[1][1],
			margin: top[0][1] - top[1][1], top});
		if (o.nPredict === 0) break;
		const tok = o.forced ? o.forced[i] : top[0][0];
		tokens.push(tok);
		input = [[tok, want]];
	}
	await ctx.dispose();
	return {steps, tokens, all};
}

function compareRuns(a, b) {
	let maxDiff = 0;
	for (let s = 0; s < a.all.length; s++)
		for (let t = 0; t < a.all[s].length; t++)
			maxDiff = Math.max(maxDiff, Math.abs(a.all[s][t] - b.all[s][t]));
	return {identical: maxDiff === 0 && a.tokens.join() === b.tokens.join(), max_abs_diff: maxDiff};
}

// Tensor types of the file, counted by GGML type id, and what llama.cpp does with them.
function typeNotes(fileInfo) {
	const counts = {};
	for (const t of fileInfo?.tensorInfo ?? []) counts[t.ggmlType] = (counts[t.ggmlType] ?? 0) + 1;
	const notes = [];
	if (counts[34] || counts[35])
		notes.push("TQ1_0/TQ2_0 matmuls quantise activations to Q8_K (int8 per 256-block) on the CPU; F32/F16 weights use float dots");
	return {counts, notes};
}

// ---------------------------------------------------------------- main
const o = parseArgs(process.argv.slice(2));
process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";
const {mod, version} = await loadBinding(o.npm);
const logLines = [];
const llama = await mod.getLlama({gpu: false, build: "never", progressLogs: false,
	logLevel: mod.LlamaLogLevel.info, logger: (level, msg) => logLines.push(String(msg))});
const t0 = Date.now();
let model;
try {
	model = await llama.loadModel({modelPath: o.model, gpuLayers: 0});
} catch (e) {
	die(`llama.cpp cannot load ${o.model}: ${e.message}; ${logLines.filter((l) => /error|fail/i.test(l)).join(" | ")}`);
}
const nVocab = [...model.iterateAllTokens()].length;
for (const t of [...o.tokens, ...(o.forced ?? [])])
	if (!(t < nVocab)) die(`token id ${t} is outside the vocabulary of ${nVocab}`);

const runs = [];
for (let r = 0; r < o.runs; r++) runs.push(await evaluate(model, o, nVocab));
const first = runs[0];
const lse = logSumExp(first.all[0]);
const bytes = fs.readFileSync(o.model);
const out = {
	format: "trit-llamacpp-logits/1",
	llama_cpp: `${llama.llamaCppRelease?.repo ?? "?"}@${llama.llamaCppRelease?.release ?? "?"}`,
	node_llama_cpp: version,
	system_info: llama.systemInfo?.trim() ?? null,
	model: path.resolve(o.model),
	model_bytes: bytes.length,
	model_sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
	architecture: model.fileInfo?.metadata?.general?.architecture ?? null,
	tensor_types: typeNotes(model.fileInfo).counts,
	notes: typeNotes(model.fileInfo).notes,
	n_vocab: nVocab, n_ctx: o.ctx, threads: o.threads,
	prompt: o.tokens,
	logits_kind: "raw",
	last_logits: Array.from(first.all[0]),
	last_logsumexp: lse,
	continuation: {mode: o.forced ? "forced" : "greedy", followed: o.follow ? path.resolve(o.follow) : null,
		tokens: first.tokens, steps: first.steps},
	step_logits: o.stepLogits ? first.all.slice(0, o.nPredict).map((a) => Array.from(a)) : null,
	runs: o.runs,
	deterministic: runs.length > 1 ? compareRuns(runs[0], runs[1]) : null,
	elapsed_ms: Date.now() - t0,
};
if (o.forced)
	out.continuation.agree = first.steps.filter((s, i) => s.argmax === o.forced[i]).length;
for (const x of out.last_logits) if (!Number.isFinite(x)) die("llama.cpp's logits are not all finite");
await model.dispose();
await llama.dispose();
fs.writeFileSync(o.out, JSON.stringify(out) + "\n");
