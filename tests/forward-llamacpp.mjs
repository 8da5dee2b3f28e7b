// forward-llamacpp.mjs - compare trit-forward's JSON with llama.cpp's
// (tests/llamacpp-logits.mjs) on the same model and prompt: the logits at
// the prompt's end within a bound, and the greedy continuation equal to
// llama.cpp's up to the first step where llama.cpp's top-2 margin is below
// `clear` (past a near-tie the two may rightly part).
// usage: node forward-llamacpp.mjs TRIT.json LLAMACPP.json MAX_ABS_DIFF CLEAR_MARGIN
// Prints one line of numbers; exits 1 with a sentence when a check fails.
import fs from "node:fs";

const [tritPath, lcPath, maxDiffS, clearS] = process.argv.slice(2);
const fail = (msg) => { console.error(`forward-llamacpp: ${msg}`); process.exit(1); };
if (!clearS) fail("usage: TRIT.json LLAMACPP.json MAX_ABS_DIFF CLEAR_MARGIN");
const trit = JSON.parse(fs.readFileSync(tritPath, "utf8"));
const lc = JSON.parse(fs.readFileSync(lcPath, "utf8"));
const maxDiff = Number(maxDiffS), clear = Number(clearS);
const a = trit.logits, b = lc.last_logits;

if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length || a.length !== trit.n_vocab)
	fail(`${tritPath}: ${a?.length} logits, llama.cpp ${b?.length}`);
let diff = 0, at = 0;
for (let i = 0; i < a.length; i++) {
	if (typeof a[i] !== "number" || !Number.isFinite(a[i])) fail(`${tritPath}: logit ${i} is not finite`);
	const d = Math.abs(a[i] - b[i]);
	if (d > diff) { diff = d; at = i; }
}
const steps = lc.continuation.steps, gen = trit.generated;
let agree = 0, stopped = "";
for (let i = 0; i < steps.length && i < gen.length; i++) {
	if (steps[i].margin < clear) { stopped = ` (step ${i}: llama.cpp's margin ${steps[i].margin} < ${clear})`; break; }
	if (gen[i] !== steps[i].argmax)
		fail(`${tritPath}: step ${i} picks ${gen[i]}, llama.cpp ${steps[i].argmax} with a clear margin ${steps[i].margin}`);
	agree++;
}
console.log(`${tritPath}: max |logit diff| ${diff.toPrecision(3)} at ${at} (bound ${maxDiff}); greedy agrees on ${agree} steps${stopped}`);
if (!(diff <= maxDiff)) fail(`${tritPath}: logits differ from llama.cpp's by ${diff} at token ${at}, over ${maxDiff}`);
