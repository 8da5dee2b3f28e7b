// refmodels.mjs - compares llama.cpp's outputs (llamacpp-logits.mjs JSON) on
// two files of one seeded reference model, F32 and TQ2_0: same trits and
// scales, but llama.cpp rounds a TQ2_0 matmul's activations to Q8_K, so the
// logits differ a little. Prints TAP lines without numbers (tests/refmodels.sh
// numbers them) and appends one JSON summary line to SUMMARY.jsonl.
//
// usage: node refmodels.mjs LABEL F32.json TQ2_0.json FORCED.json SUMMARY.jsonl
//            MAX_DIFF CLEAR_MARGIN MIN_PREFIX
//   FORCED.json: the TQ2_0 file teacher-forced with F32's tokens (--follow),
//   both it and F32.json written with --step-logits.
//   MAX_DIFF: bound on |logit(F32) - logit(TQ2_0)| over the vocabulary at
//   every step; CLEAR_MARGIN: where F32's top-2 margin exceeds it, TQ2_0 must
//   pick the same token; MIN_PREFIX: greedy continuations agree at least this far.
import fs from "node:fs";

const [label, fA, fB, fF, summaryPath, maxDiffS, clearS, minPrefixS] = process.argv.slice(2);
if (!minPrefixS) {
	console.log("not ok - refmodels.mjs: usage: LABEL F32.json TQ2_0.json FORCED.json SUMMARY.jsonl MAX_DIFF CLEAR_MARGIN MIN_PREFIX");
	process.exit(1);
}
const maxDiff = +maxDiffS, clear = +clearS, minPrefix = +minPrefixS;
const read = (f) => JSON.parse(fs.readFileSync(f, "utf8"));
const [a, b, f] = [read(fA), read(fB), read(fF)];
const ok = (cond, name, diag = []) => {
	console.log(`${cond ? "ok" : "not ok"} - ${label}: ${name}`);
	for (const d of diag) console.log(`# ${d}`);
};
const finite = (j) => j.last_logits.every(Number.isFinite) && (j.step_logits ?? []).every((s) => s.every(Number.isFinite));
const maxAbsDiff = (x, y) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);

ok(a.n_vocab === b.n_vocab && a.n_vocab === a.last_logits.length && b.n_vocab === b.last_logits.length,
	"both give logits over the whole vocabulary", [`n_vocab ${a.n_vocab} / ${b.n_vocab}, logits ${a.last_logits.length} / ${b.last_logits.length}`]);
ok(a.prompt.join() === b.prompt.join() && f.prompt.join() === a.prompt.join(), "same prompt");
ok(finite(a) && finite(b) && finite(f), "logits are finite");
for (const [j, what] of [[a, "F32"], [b, "TQ2_0"]])
	ok(j.deterministic?.identical === true, `llama.cpp is deterministic on ${what} (two runs, bitwise)`,
		[`max |difference| between runs ${j.deterministic?.max_abs_diff}`]);

const lastDiff = maxAbsDiff(a.last_logits, b.last_logits);
const stepDiffs = a.step_logits.map((s, i) => maxAbsDiff(s, f.step_logits[i]));
const worst = Math.max(...stepDiffs);
ok(worst <= maxDiff, `|logit F32 - logit TQ2_0| <= ${maxDiff} at every step (teacher-forced)`,
	[`prompt's last position ${lastDiff.toPrecision(4)}, worst step ${worst.toPrecision(4)} (step ${stepDiffs.indexOf(worst)})`]);

const steps = a.continuation.steps.map((s, i) => ({i, margin: s.margin, agree: f.continuation.steps[i].argmax === a.continuation.tokens[i]}));
const clearSteps = steps.filter((s) => s.margin > clear);
const missed = clearSteps.filter((s) => !s.agree);
const disagreements = steps.filter((s) => !s.agree).map((s) => `step ${s.i} (F32 margin ${s.margin.toPrecision(3)})`);
ok(missed.length === 0, `TQ2_0 picks F32's token wherever F32's margin > ${clear}`,
	[`teacher-forced: ${steps.length - disagreements.length}/${steps.length} steps agree, ${clearSteps.length} clear steps`,
		...(disagreements.length ? [`disagree at ${disagreements.join(", ")}`] : [])]);

let prefix = 0;
while (prefix < a.continuation.tokens.length && a.continuation.tokens[prefix] === b.continuation.tokens[prefix]) prefix++;
ok(prefix >= minPrefix, `greedy continuations agree for at least ${minPrefix} tokens`,
	[`agree for ${prefix} of ${a.continuation.tokens.length}`, `F32   ${a.continuation.tokens.join(",")}`, `TQ2_0 ${b.continuation.tokens.join(",")}`]);

fs.appendFileSync(summaryPath, JSON.stringify({
	label, llama_cpp: a.llama_cpp, node_llama_cpp: a.node_llama_cpp, n_vocab: a.n_vocab, prompt: a.prompt,
	greedy_common_prefix: prefix, n_predict: a.continuation.tokens.length,
	max_abs_diff_last: lastDiff, max_abs_diff_steps: worst,
	forced_agree: steps.length - disagreements.length, forced_steps: steps.length,
	min_f32_margin: Math.min(...steps.map((s) => s.margin)),
	deterministic: [a.deterministic, b.deterministic],
}) + "\n");
