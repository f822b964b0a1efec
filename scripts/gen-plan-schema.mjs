#!/usr/bin/env node
// Writes the C++ side of the plan schema (src/plan/schema.ts) into native/, from
// scripts/plan-schema-gen.ts; files whose text is unchanged are left alone, so
// node-gyp does not rebuild for nothing. Run by `npm run build`.
// `--check`: write nothing, exit 1 when a generated file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundled = await build({
  entryPoints: [`${root}/scripts/plan-schema-gen.ts`],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'node',
  logLevel: 'warning',
});
const source = bundled.outputFiles[0].text;
const { generate } = await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`);

const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of Object.entries(generate())) {
  let current = null;
  try {
    current = readFileSync(`${root}/${path}`, 'utf8');
  } catch {}
  if (current === text) continue;
  stale++;
  if (check) console.error(`gen-plan-schema: ${path} is stale (run npm run build)`);
  else {
    writeFileSync(`${root}/${path}`, text);
    console.log(`gen-plan-schema: wrote ${path}`);
  }
}
process.exit(check && stale > 0 ? 1 : 0);
