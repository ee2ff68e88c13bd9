// Compiles kernels.wat (WebAssembly text, SIMD) to binary.ts, the module's bytes as base64, with
// wabt's wat2wasm from npm. Run by `npm run build:simd`; `--check` exits 1 when binary.ts is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtFactory from 'wabt';

const here = dirname(fileURLToPath(import.meta.url));
const source = readFileSync(join(here, 'kernels.wat'), 'utf8');
const wabt = await wabtFactory();
const module = wabt.parseWat('kernels.wat', source, { simd: true });
module.validate();
const { buffer } = module.toBinary({});
module.destroy();
const text = `// Generated from kernels.wat by compile.mjs (npm run build:simd). Do not edit.
/** The WebAssembly module of kernels.wat (${buffer.length} bytes), base64. */
export const SIMD_KERNELS_BASE64 = '${Buffer.from(buffer).toString('base64')}';
`;
const target = join(here, 'binary.ts');
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== text) {
    console.error('src/kernels/host/simd/binary.ts is stale: run npm run build:simd');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target} (${buffer.length} bytes of WebAssembly)`);
}
