/**
 * The plan schema (src/plan/schema.ts) is the one declaration of the ops: the C++
 * structs and decoder checked in under native/ must be exactly what it generates.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate, generatedFiles } from '../../../scripts/plan-schema-gen.js';
import { opSchema } from '../../../src/plan/schema.js';

const repo = join(import.meta.dirname, '..', '..', '..');

describe('the plan schema', () => {
  it('native/plan_schema.h and native/plan_schema_decode.cc are generated from it (run npm run build when this fails)', () => {
    const files = generate();
    expect(Object.keys(files).sort()).toEqual(Object.values(generatedFiles).sort());
    for (const [path, text] of Object.entries(files)) expect(readFileSync(join(repo, path), 'utf8'), path).toBe(text);
  });

  it('gives every op kind a struct member and a decoder case named after it', () => {
    const header = generate()[generatedFiles.header]!;
    const decoder = generate()[generatedFiles.decoder]!;
    expect(header).toContain('  const char* target;');
    expect(header).toContain('  PathMode target_mode;');
    expect(header).toContain('    MountOp mount;');
    for (const kind of Object.keys(opSchema)) expect(decoder).toContain(`    "${kind}",`);
    expect(decoder).toContain('op.mount.source_in_root = in.Bool("sourceInRoot", true);');
    expect(decoder).toContain('op.stdio.fds = in.Ints("fds", &op.stdio.fds_len, 3);');
  });

  it('leaves no numbered slot access in native/', () => {
    for (const file of ['child.cc', 'escape_probe.cc', 'seccomp_filter.cc', 'plan_decode.cc']) {
      const text = readFileSync(join(repo, 'native', file), 'utf8');
      expect(text, file).not.toMatch(/\bop\.(s|n|v|nv)\b|\.(s|n|v)\[\d\]|nv_len/);
    }
  });
});
