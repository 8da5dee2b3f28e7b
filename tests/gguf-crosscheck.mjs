// gguf-crosscheck.mjs - reads GGUF files written by trit-genmodel with an
// independent parser (Hugging Face's @huggingface/gguf) and compares its view
// with the table trit-genmodel printed (--tensors-json), and with what trit's
// own reader says (trit inspect --json --tensors). Prints TAP.
// usage: node gguf-crosscheck.mjs PKGDIR LABEL FILE.gguf FILE.json TRIT.json [...]
import { createRequire } from "node:module";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const [pkgdir, ...rest] = process.argv.slice(2);
const require = createRequire(join(pkgdir, "package.json"));
const { gguf } = require("@huggingface/gguf");

const cases = [];
for (let i = 0; i + 3 < rest.length; i += 4)
	cases.push({ label: rest[i], file: rest[i + 1], json: rest[i + 2], trit: rest[i + 3] });

const CHECKS = 6;
console.log(`1..${cases.length * CHECKS}`);
let n = 0;
function report(ok, what, why) {
	n++;
	console.log(`${ok ? "ok" : "not ok"} ${n} - ${what}${ok ? "" : ": " + why}`);
}

for (const c of cases) {
	const want = JSON.parse(readFileSync(c.json, "utf8"));
	let got;
	try {
		got = await gguf(c.file, { allowLocalFile: true, computeParametersCount: true });
	} catch (e) {
		for (let k = 0; k < CHECKS; k++)
			report(false, `${c.label}: parse`, String(e && e.message ? e.message : e));
		continue;
	}
	const md = got.metadata;

	// 1. header counts and the metadata key set, in file order
	const keys = Object.keys(md).filter((k) => !["version", "tensor_count", "kv_count"].includes(k));
	let why = "";
	if (md.version !== 3) why = `version ${md.version}`;
	else if (Number(md.kv_count) !== want.n_kv) why = `kv_count ${md.kv_count}, expected ${want.n_kv}`;
	else if (Number(md.tensor_count) !== want.n_tensors) why = `tensor_count ${md.tensor_count}, expected ${want.n_tensors}`;
	else if (keys.join("\n") !== want.keys.join("\n"))
		why = `keys differ: first mismatch at ${keys.findIndex((k, i) => k !== want.keys[i])}`;
	else if (md["general.architecture"] !== want.architecture) why = `architecture ${md["general.architecture"]}`;
	else if (md["general.alignment"] !== want.alignment) why = `alignment ${md["general.alignment"]}`;
	// scalar values as written (f32 compared as f32), array lengths
	for (const k of want.keys) {
		if (why) break;
		const w = want.values[k], v = md[k];
		if (w !== null && typeof w === "object") {
			if (!Array.isArray(v) || v.length !== w.count)
				why = `${k}: ${Array.isArray(v) ? v.length : typeof v} elements, expected ${w.count}`;
		} else if (typeof w === "number" && !Number.isInteger(w)) {
			if (Math.fround(Number(v)) !== Math.fround(w)) why = `${k}: ${v}, expected ${w}`;
		} else if (typeof w === "number") {
			if (Number(v) !== w) why = `${k}: ${v}, expected ${w}`;
		} else if (v !== w) why = `${k}: ${JSON.stringify(v)}, expected ${JSON.stringify(w)}`;
	}
	report(!why, `${c.label}: metadata (${want.n_kv} keys and their values)`, why);

	// 2. tensor names and dims
	why = "";
	const ti = got.tensorInfos;
	if (ti.length !== want.tensors.length) why = `${ti.length} tensors, expected ${want.tensors.length}`;
	for (let i = 0; !why && i < ti.length; i++) {
		const a = ti[i], b = want.tensors[i];
		const dims = a.shape.map(Number);
		if (a.name !== b.name) why = `tensor ${i}: ${a.name}, expected ${b.name}`;
		else if (dims.join(",") !== b.dims.join(","))
			why = `${a.name}: dims [${dims}], expected [${b.dims}]`;
	}
	report(!why, `${c.label}: ${want.tensors.length} tensor names and dims`, why);

	// 3. type ids and offsets
	why = "";
	for (let i = 0; !why && i < ti.length; i++) {
		const a = ti[i], b = want.tensors[i];
		if (Number(a.dtype) !== b.type) why = `${a.name}: type ${a.dtype}, expected ${b.type}`;
		else if (a.offset !== BigInt(b.offset)) why = `${a.name}: offset ${a.offset}, expected ${b.offset}`;
		else if (a.offset % BigInt(want.alignment) !== 0n) why = `${a.name}: offset not aligned`;
	}
	report(!why, `${c.label}: type ids and offsets (${want.type})`, why);

	// 4. data section and file size
	why = "";
	const size = statSync(c.file).size;
	if (got.tensorDataOffset !== BigInt(want.data_offset))
		why = `data offset ${got.tensorDataOffset}, expected ${want.data_offset}`;
	else if (size !== want.file_size) why = `file size ${size}, expected ${want.file_size}`;
	report(!why, `${c.label}: data offset ${want.data_offset}, file size ${want.file_size}`, why);

	// 5. element count as the parser sums it
	why = Number(got.parameterCount) === want.elements ? "" :
		`parser counts ${got.parameterCount} elements, expected ${want.elements}`;
	report(!why, `${c.label}: ${want.elements} elements`, why);

	// 6. trit's reader (runtime/model/gguf.c via trit inspect) against this
	// parser: same tensors, GGML dims, type ids and absolute data offsets
	why = "";
	const tr = JSON.parse(readFileSync(c.trit, "utf8"));
	if (tr.tensors.length !== ti.length) why = `trit reads ${tr.tensors.length} tensors, parser ${ti.length}`;
	for (let i = 0; !why && i < ti.length; i++) {
		const a = ti[i], b = tr.tensors[i];
		const abs = got.tensorDataOffset + a.offset;
		if (a.name !== b.name) why = `tensor ${i}: parser ${a.name}, trit ${b.name}`;
		else if (a.shape.map(Number).join(",") !== b.ne.join(",")) why = `${a.name}: dims differ`;
		else if (Number(a.dtype) !== b.ggml_type) why = `${a.name}: parser type ${a.dtype}, trit ${b.ggml_type}`;
		else if (abs !== BigInt(b.offset)) why = `${a.name}: parser offset ${abs}, trit ${b.offset}`;
	}
	report(!why, `${c.label}: trit's reader agrees with the parser on every tensor`, why);
}
