import { readFileSync, writeFileSync } from "node:fs";
import binaryen from "binaryen";
const [input, output, ...pats] = process.argv.slice(2);
const res = pats.map((p) => new RegExp(p));
const module = binaryen.readBinary(readFileSync(input));
const F = binaryen.Features;
module.setFeatures(F.BulkMemory | F.BulkMemoryOpt | F.ReferenceTypes | F.SignExt | F.NontrappingFPToInt | F.MutableGlobals | F.Multivalue);
const stubs = [];
for (let i = 0; i < module.getNumFunctions(); i++) {
  const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
  if (info.module) continue;
  if (res.some((re) => re.test(info.name))) stubs.push(info);
}
for (const f of stubs) { module.removeFunction(f.name); module.addFunction(f.name, f.params, f.results, [], module.unreachable()); }
console.error(`stubbed ${stubs.length}: ${stubs.map(f=>f.name).join(" | ").slice(0,300)}`);
writeFileSync(output, module.emitBinary());
