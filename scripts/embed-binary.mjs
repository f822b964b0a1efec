#!/usr/bin/env node
// Build step (binding.gyp, husk_exec_blob): writes a binary file as a C array in a header,
// so the addon carries husk-exec in itself (native/exec_helper.h).
//   node scripts/embed-binary.mjs INPUT OUTPUT.h SYMBOL
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';

const [input, output, symbol] = process.argv.slice(2);
if (!input || !output || !symbol) {
  console.error('usage: embed-binary.mjs INPUT OUTPUT.h SYMBOL');
  process.exit(2);
}
const bytes = readFileSync(input);
const rows = [];
for (let i = 0; i < bytes.length; i += 16) rows.push(`  ${[...bytes.subarray(i, i + 16)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')},`);
mkdirSync(dirname(output), { recursive: true });
writeFileSync(
  output,
  `// Generated from ${basename(input)} by scripts/embed-binary.mjs: do not edit.\n#pragma once\n` +
    `static const unsigned char ${symbol}[] = {\n${rows.join('\n')}\n};\n`,
);
