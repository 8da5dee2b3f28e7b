// llamacpp-crosscheck.mjs - runs llama.cpp (the prebuilt CPU build shipped
// in node-llama-cpp's npm packages) on GGUF files written by trit-genmodel,
// records the memory it reports, and compares it, as TAP, with the rules
// written down in docs/llamacpp-memory.md (computed here from `trit inspect
// --json --tensors`) and with `trit plan` when that command exists.
//
// usage: node llamacpp-crosscheck.mjs NPMDIR TRIT OUT.jsonl
//            LABEL MODEL.gguf INSPECT.json CASES [LABEL MODEL INSPECT CASES]...
// CASES: comma-separated CTX/KVTYPE/FA/SWAFULL, e.g. 4096/f16/off/0
//   KVTYPE f16, f32 or q8_0 (for K and V alike); FA on, off or auto;
//   SWAFULL 1 for a full-size sliding-window cache.
// One JSON line per case goes to OUT.jsonl; TAP goes to stdout.
import fs from "node:fs";
import path from "node:path";
import {execFileSync} from "node:child_process";
import {pathToFileURL} from "node:url";

const [npmdir, trit, outPath, ...rest] = process.argv.slice(2);
if (!npmdir || !trit || !outPath || rest.length === 0 || rest.length % 4 !== 0) {
	console.log("Bail out! usage: llamacpp-crosscheck.mjs NPMDIR TRIT OUT.jsonl LABEL MODEL INSPECT CASES...");
	process.exit(1);
}
const MiB = 1024 * 1024;
// the binding sets n_batch = n_ubatch = batchSize; llama-cli's defaults are
// n_batch 2048, n_ubatch 512: both give n_ubatch = min(n_ctx, 512)
const N_BATCH = 512;
const GGML_TYPE = {f32: 0, f16: 1, q4_0: 2, q4_1: 3, q5_0: 6, q5_1: 7, q8_0: 8, iq4_nl: 20, bf16: 30};
const nlcDir = path.resolve(npmdir, "node_modules", "node-llama-cpp");
const nlcPkg = JSON.parse(fs.readFileSync(path.join(nlcDir, "package.json"), "utf8"));
const {getLlama, LlamaLogLevel} = await import(pathToFileURL(path.join(nlcDir, nlcPkg.exports["."].import)).href);

// ---------------------------------------------------------------- TAP
let nTest = 0, nFail = 0;
const ok = (cond, name, diag = []) => {
	nTest++;
	if (!cond) nFail++;
	console.log(`${cond ? "ok" : "not ok"} ${nTest} - ${name}`);
	for (const d of diag) console.log(`# ${d}`);
};
const skip = (name, why) => { nTest++; console.log(`ok ${nTest} - ${name} # SKIP ${why}`); };

// ---------------------------------------------------------------- llama.cpp log capture
// The logger is called from llama.cpp's threads through a queue: lines can
// arrive after the promise that caused them resolved, so each case waits for
// a line it knows comes last (the context destructor's).
// node-llama-cpp hands over whole lines, without their newline.
const lines = [], levels = [];
const waiters = [];
function onLog(level, message) {
	for (const line of String(message).split("\n")) {
		lines.push(line);
		levels.push(String(level));
		for (const w of [...waiters])
			if (w.re.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
	}
}
function waitLine(re, ms) {
	return new Promise((resolve) => {
		const w = {re, resolve};
		waiters.push(w);
		setTimeout(() => { const j = waiters.indexOf(w); if (j >= 0) { waiters.splice(j, 1); resolve(null); } }, ms);
	});
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const llama = await getLlama({
	gpu: false,          // CPU only
	build: "never",      // the prebuilt binary or nothing: never download or compile llama.cpp
	progressLogs: false,
	logLevel: LlamaLogLevel.debug,
	logger: onLog,
});
const llamaVersion = `llama.cpp ${llama.llamaCppRelease?.release ?? "?"} (node-llama-cpp ${nlcPkg.version})`;
console.log(`# ${llamaVersion}, ${llama.systemInfo?.trim() ?? ""}`);

// ---------------------------------------------------------------- the rules
const PAD = (x, n) => Math.ceil(x / n) * n;
// bytes of one row of n elements (ggml_row_size); null when n is not whole blocks
function rowBytes(type, n) {
	const t = {f32: [1, 4], f16: [1, 2], bf16: [1, 2], q8_0: [32, 34], q4_0: [32, 18], q4_1: [32, 20],
		q5_0: [32, 22], q5_1: [32, 24], iq4_nl: [32, 18]}[type];
	if (!t || n % t[0] !== 0) return null;
	return n / t[0] * t[1];
}
const quantized = (type) => !["f32", "f16", "bf16"].includes(type);

// Which layers llama.cpp gives a sliding window: only architectures whose
// loader sets a SWA type, in its pattern (is_swa(il) = il % p < p - 1, unless
// the GGUF has a sliding_window_pattern); the window is the GGUF's
// sliding_window (gemma2: 4096 when absent). Phi-3's window is ignored
// ("Phi SWA is currently disabled"), as is any other architecture's.
const SWA_PATTERN = {gemma2: 2, gemma3: 6};
function swaOf(ins) {
	const p = SWA_PATTERN[ins.architecture];
	const window = p === undefined ? 0 : ins.hparams.sliding_window || (ins.architecture === "gemma2" ? 4096 : 0);
	return {window, isSwa: (il) => window > 0 && il % p < p - 1};
}

// What llama.cpp does with a context request, from the GGUF's hyper-parameters
// (docs/llamacpp-memory.md). Returns {refuse} or the cache(s) it allocates.
function expectKv(ins, c) {
	const hp = ins.hparams;
	const fa = quantized(c.kv) ? (c.fa === "off" ? null : "on") : c.fa;   // quantized V forces FA on
	if (fa === null) return {refuse: "quantized V cache requires flash attention"};
	const mla = ins.architecture === "deepseek2" && hp.kv_lora_rank > 0 &&
		hp.head_dim_k === hp.kv_lora_rank + hp.n_rot;
	if (quantized(c.kv) && fa !== "off") {
		if (hp.head_dim_k % 32) return {refuse: `K cache type ${c.kv} does not divide head_dim_k=${hp.head_dim_k}`};
		if (hp.head_dim_v % 32) return {refuse: `V cache type ${c.kv} does not divide head_dim_v=${hp.head_dim_v}`};
	}
	const nBatch = Math.min(c.ctx, N_BATCH);
	const nUbatch = Math.min(nBatch, N_BATCH);
	const nCtx = PAD(c.ctx, 256);
	const swa = swaOf(ins);
	const swaCells = c.swaFull ? nCtx : PAD(Math.min(nCtx, swa.window + nUbatch), 256);
	// a model with sliding-window layers gets two caches (llama_kv_cache_iswa),
	// the full-context one first and the SWA one, even when their sizes agree
	// or one of them has no layer
	const caches = swa.window ? [{swa: false, cells: nCtx, layers: 0, k: 0, v: 0},
		{swa: true, cells: swaCells, layers: 0, k: 0, v: 0}] : [{swa: false, cells: nCtx, layers: 0, k: 0, v: 0}];
	const add = (isSwa, cells, kElems, vElems) => {
		const cache = caches.find((x) => x.swa === isSwa);
		cache.layers++;
		cache.k += cells * rowBytes(c.kv, kElems);
		cache.v += vElems ? cells * rowBytes(c.kv, vElems) : 0;
	};
	for (let il = 0; il < hp.n_layer; il++) {
		const isSwa = swa.isSwa(il);
		const cells = isSwa ? swaCells : nCtx;
		if (mla) add(isSwa, cells, hp.head_dim_k * hp.n_head_kv, 0);   // MLA: one latent K row, no V
		else add(isSwa, cells, hp.n_head_kv * hp.head_dim_k, hp.n_head_kv * hp.head_dim_v);
	}
	const total = caches.reduce((s, x) => s + x.k + x.v, 0);
	return {nCtx, nUbatch, fa, mla, caches, total};
}

// The weights llama.cpp maps: with mmap and no repacking, one CPU_Mapped
// buffer spanning the tensor data from the first tensor's offset to the
// last tensor's end.
function expectWeights(ins) {
	const t = ins.tensors;
	const first = Math.min(...t.map((x) => x.offset));
	const last = Math.max(...t.map((x) => x.offset + x.bytes));
	return {span: last - first, sum: ins.bytes};
}

// ---------------------------------------------------------------- parsing llama.cpp's log
function parseContextLog(seg) {
	const r = {caches: [], kvBuffers: []};
	for (const l of seg) {
		let m;
		if ((m = l.match(/llama_context: n_ctx\s*=\s*(\d+)/))) r.nCtx = +m[1];
		if ((m = l.match(/llama_context: n_ctx_seq\s*=\s*(\d+)/))) r.nCtxSeq = +m[1];
		if ((m = l.match(/llama_context: n_ubatch\s*=\s*(\d+)/))) r.nUbatch = +m[1];
		if ((m = l.match(/Flash Attention (enabled|disabled)/i))) r.fa = m[1] === "enabled" ? "on" : "off";
		if ((m = l.match(/llama_context: flash_attn\s*=\s*(\w+)/)) && r.fa === undefined)
			r.fa = {enabled: "on", disabled: "off"}[m[1]];
		if ((m = l.match(/(\S+) KV (?:buffer|self) size\s*=\s*([\d.]+) MiB/))) r.kvBuffers.push({name: m[1], mib: +m[2]});
		if ((m = l.match(/size =\s*([\d.]+) MiB \(\s*(\d+) cells,\s*(\d+) layers,.*K \((\w+)\):\s*([\d.]+) MiB, V \((\w+)\):\s*([\d.]+) MiB/)))
			r.caches.push({mib: +m[1], cells: +m[2], layers: +m[3], k_type: m[4], k_mib: +m[5], v_type: m[6], v_mib: +m[7]});
		if ((m = l.match(/compute buffer size is\s*([\d.]+) MiB/))) r.computeMib4 = +m[1];
		if ((m = l.match(/(\S+) compute buffer size =\s*([\d.]+) MiB/))) r.computeMib2 = +m[2];
	}
	return r;
}

// ---------------------------------------------------------------- running the cases
const out = fs.createWriteStream(outPath);
let havePlan = false;
try { execFileSync(trit, ["plan", "--help"], {stdio: "ignore"}); havePlan = true; } catch { /* absent */ }

const noted = new Set();
const tol = (mib) => Math.abs(mib) <= 0.005 + 1e-9;   // llama.cpp prints MiB with 2 decimals
const fmt = (b) => `${b} B (${(b / MiB).toFixed(4)} MiB)`;

for (let a = 0; a < rest.length; a += 4) {
	const [label, file, inspectPath, casesSpec] = rest.slice(a, a + 4);
	const [shape, type] = label.split("/");
	const ins = JSON.parse(fs.readFileSync(inspectPath, "utf8"));
	const mark = lines.length;
	const t0 = Date.now();
	let model;
	try {
		model = await llama.loadModel({modelPath: file, gpuLayers: 0, ignoreMemorySafetyChecks: true});
	} catch (e) {
		await sleep(200);
		ok(false, `${label}: llama.cpp loads the model`, [String(e.message ?? e), ...lines.slice(mark).filter((l) => /error/i.test(l))]);
		continue;
	}
	const loadMs = Date.now() - t0;
	await sleep(50);
	const modelSeg = lines.slice(mark);
	const modelBuffers = {};
	for (const l of modelSeg) {
		const m = l.match(/(\S+) model buffer size\s*=\s*([\d.]+) MiB/);
		if (m) modelBuffers[m[1]] = (modelBuffers[m[1]] ?? 0) + +m[2];
	}
	const modelBytes = model._model.getMemoryBreakdown().cpuRam;   // exact: sum of the model's host buffers
	const w = expectWeights(ins);
	console.log(`# ${label}: loaded in ${loadMs} ms; model buffers ${JSON.stringify(modelBuffers)} MiB`);
	if (modelBuffers.CPU_REPACK !== undefined)
		skip(`${label}: weights = tensor data span`, `CPU_REPACK buffer of ${modelBuffers.CPU_REPACK} MiB (repacking depends on the CPU; see docs/llamacpp-memory.md)`);
	else
		ok(modelBytes === w.span, `${label}: model buffer = span of the tensor data`,
			[`llama.cpp ${fmt(modelBytes)}, formula ${fmt(w.span)} (sum of tensor bytes ${w.sum})`]);

	for (const spec of casesSpec.split(",")) {
		const [ctxS, kv, fa, swaFullS] = spec.split("/");
		const c = {ctx: +ctxS, kv, fa, swaFull: swaFullS === "1"};
		const name = `${label} ctx ${c.ctx} kv ${kv} fa ${fa}${c.swaFull ? " swa_full" : ""}`;
		const exp = expectKv(ins, c);
		const cmark = lines.length;
		let ctx, err = null, ctxBytes = null;
		try {
			// node-llama-cpp's createContext() pads the context to 256 itself
			// and adds 1 to the batch of SWA models: go to its binding, which
			// hands these values to llama_init_from_model() unchanged
			ctx = new llama._bindings.AddonContext(model._model, {
				contextSize: c.ctx, batchSize: N_BATCH, sequences: 1,
				flashAttention: fa === "on" ? true : fa === "off" ? false : "auto",
				kvCacheKeyType: GGML_TYPE[kv], kvCacheValueType: GGML_TYPE[kv], swaFullCache: c.swaFull,
			});
			if (!await ctx.init())
				throw new Error("llama.cpp did not create the context");
			ctxBytes = ctx.getMemoryBreakdown().cpuRam;   // exact: KV buffers + compute buffer
			const done = waitLine(/~llama_context:.*compute buffer size is/, 5000);
			await ctx.dispose();
			await done;
		} catch (e) {
			err = String(e.message ?? e);
			await sleep(200);
		}
		const r = parseContextLog(lines.slice(cmark));
		const errors = lines.slice(cmark).filter((l, i) => levels[cmark + i] === "error").map((l) => l.trim());
		const rec = {
			shape, type, n_ctx_requested: c.ctx, n_ctx_used: r.nCtx ?? null, n_ubatch: r.nUbatch ?? null,
			kv_type: kv, flash_attn: fa, flash_attn_used: r.fa ?? null, swa_full: c.swaFull,
			kv_bytes: null, k_bytes: null, v_bytes: null,
			kv_buffers_mib: r.kvBuffers.map((b) => b.mib), caches: r.caches,
			model_buffer_bytes: modelBytes, model_buffers_mib: modelBuffers,
			compute_buffer_mib: r.computeMib4 ?? r.computeMib2 ?? null,
			llama_cpp_version: llamaVersion,
		};
		if (err) {
			rec.error = [...new Set([...errors, err])].join(" | ");
			out.write(JSON.stringify(rec) + "\n");
			ok(exp.refuse !== undefined, `${name}: llama.cpp refuses, as the rules say`,
				[`llama.cpp: ${rec.error}`, `rules: ${exp.refuse ?? "should load"}`]);
			continue;
		}
		// exact KV bytes: the context's host memory less its compute buffer,
		// which the destructor prints to 1e-4 MiB (±52 B); KV buffers are whole
		// multiples of 256 B (256-cell padding), so that pins them exactly.
		if (r.computeMib4 !== undefined) {
			const est = ctxBytes - r.computeMib4 * MiB;
			const kvExact = Math.round(est / 256) * 256;
			if (Math.abs(est - kvExact) <= 64) rec.kv_bytes = kvExact;
		}
		// K and V apart: exact when there is no V (MLA), else from the log's
		// 2-decimal MiB (k_v_bytes_exact false)
		rec.k_v_bytes_exact = false;
		if (rec.kv_bytes !== null && r.caches.length && r.caches.every((x) => x.v_mib === 0)) {
			rec.k_bytes = rec.kv_bytes;
			rec.v_bytes = 0;
			rec.k_v_bytes_exact = true;
		} else if (r.caches.length) {
			rec.k_bytes = Math.round(r.caches.reduce((s, x) => s + x.k_mib, 0) * MiB);
			rec.v_bytes = Math.round(r.caches.reduce((s, x) => s + x.v_mib, 0) * MiB);
		}
		rec.kv_bytes_exact = rec.kv_bytes !== null;
		out.write(JSON.stringify(rec) + "\n");

		if (exp.refuse !== undefined) {
			ok(false, `${name}: loads although the rules say llama.cpp refuses (${exp.refuse})`);
			continue;
		}
		const sw = swaOf(ins), swaLlama = [...Array(ins.hparams.n_layer).keys()].filter(sw.isSwa);
		if (JSON.stringify(swaLlama) !== JSON.stringify(ins.hparams.swa_layers ?? []) && !noted.has(label) && noted.add(label))
			console.log(`# note: trit inspect's swa_layers ${JSON.stringify(ins.hparams.swa_layers)}, llama.cpp's ${JSON.stringify(swaLlama)} (window ${sw.window})`);
		ok(rec.n_ctx_used === exp.nCtx, `${name}: n_ctx used`, [`llama.cpp ${rec.n_ctx_used}, rules ${exp.nCtx}`]);
		// every cache: cells, layers, K and V as printed
		const diag = [];
		let cachesOk = r.caches.length === exp.caches.length;
		if (!cachesOk) diag.push(`llama.cpp made ${r.caches.length} cache(s), rules ${exp.caches.length}`);
		for (let i = 0; cachesOk && i < exp.caches.length; i++) {
			const e = exp.caches[i], g = r.caches[i];   // llama.cpp makes the full-context cache first
			if (g.cells !== e.cells || g.layers !== e.layers || !tol(g.k_mib - e.k / MiB) || !tol(g.v_mib - e.v / MiB)) {
				cachesOk = false;
				diag.push(`rules: ${e.cells} cells x ${e.layers} layers, K ${(e.k / MiB).toFixed(4)} MiB, V ${(e.v / MiB).toFixed(4)} MiB; ` +
					`llama.cpp: ${JSON.stringify(r.caches)}`);
			}
		}
		ok(cachesOk, `${name}: KV cells, layers and K/V sizes per cache`, diag);
		if (rec.kv_bytes === null)
			ok(false, `${name}: exact KV bytes`, [`cannot pin the KV bytes: context ${ctxBytes} B, compute ${rec.compute_buffer_mib} MiB`]);
		else
			ok(rec.kv_bytes === exp.total, `${name}: KV bytes`, [`llama.cpp ${fmt(rec.kv_bytes)}, rules ${fmt(exp.total)}` +
				(rec.kv_bytes === exp.total ? "" : `, off by ${rec.kv_bytes - exp.total} B`)]);

		// trit's own estimator
		if (!havePlan) {
			skip(`${name}: trit plan kv`, "trit plan not built yet");
			continue;
		}
		if (c.swaFull) {
			skip(`${name}: trit plan kv`, "trit plan has no full-size SWA cache option");
			continue;
		}
		let plan = null, perr = null;
		try {
			plan = JSON.parse(execFileSync(trit, ["plan", file, "--json", "--ctx", String(c.ctx), "--kv-type", kv],
				{encoding: "utf8", stdio: ["ignore", "pipe", "pipe"]}));
		} catch (e) { perr = String(e.stderr || e.message).trim(); }
		if (!plan) {
			ok(false, `${name}: trit plan runs`, [perr]);
			continue;
		}
		const pk = plan?.totals?.kv, pw = plan?.totals?.weights;
		ok(pk === rec.kv_bytes, `${name}: trit plan kv`, [`trit ${pk}, llama.cpp ${rec.kv_bytes}`]);
		ok(pw === modelBytes, `${name}: trit plan weights`, [`trit ${pw}, llama.cpp ${modelBytes}`]);
	}
	await model.dispose();
}
await llama.dispose();
out.end();
console.log(`1..${nTest}`);
console.log(`# ${nTest - nFail} passed, ${nFail} failed; records in ${outPath}`);
process.exit(nFail ? 1 : 0);
