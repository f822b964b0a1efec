/**
 * The code that runs in the cloned child, between clone and exec, is a build
 * property, not a convention: binding.gyp compiles it as its own static library
 * without exceptions or RTTI, and these checks keep it free of the C++ library's
 * allocating containers, of stdio, and of glibc calls that are not
 * async-signal-safe. Needs the C++ compiler the addon is built with (no root).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');

interface GypTarget {
  target_name: string;
  type?: string;
  sources: string[];
  dependencies?: string[];
  defines?: string[];
  cflags_cc?: string[];
}
const gyp = JSON.parse(
  readFileSync(join(repo, 'binding.gyp'), 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n'),
) as { variables: Record<string, string[]>; targets: GypTarget[] };
/** gyp's list expansion "<@(name)" of the file's own variables. */
const expand = (list: string[] = []): string[] =>
  list.flatMap((item) => {
    const name = /^<@\((\w+)\)$/.exec(item)?.[1];
    return name === undefined ? [item] : (gyp.variables[name] ?? []);
  });
const target = (name: string): GypTarget => {
  const found = gyp.targets.find((t) => t.target_name === name);
  if (found === undefined) throw new Error(`binding.gyp has no target ${name}`);
  return { ...found, sources: expand(found.sources), cflags_cc: expand(found.cflags_cc) };
};
const childTargets = [target('husk_child'), target('husk_lab_child')];
const childSources = [...new Set(childTargets.flatMap((t) => t.sources))];

/** Source text without comments and string literals (they may say "new" or "std::string"). */
const code = (file: string): string =>
  readFileSync(join(repo, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '""');

describe('the child target (native/child.cc and what it calls)', () => {
  it('is a static library of its own, built without exceptions or RTTI, linked into the addon', () => {
    const child = target('husk_child');
    expect(child.type).toBe('static_library');
    expect(childSources).toEqual(expect.arrayContaining(['native/child.cc', 'native/seccomp_filter.cc']));
    expect(child.cflags_cc).toEqual(expect.arrayContaining(['-fno-exceptions', '-fno-rtti']));
    expect(child.cflags_cc).not.toContain('-fexceptions');
    const addon = target('husk');
    expect(addon.dependencies).toContain('husk_child');
    for (const source of childSources) expect(addon.sources).not.toContain(source);
    // The escape lab's interpreter is the same child with the lab's ops, built the same way.
    const lab = target('husk_lab_child');
    expect(lab.type).toBe('static_library');
    expect(lab.cflags_cc).toEqual(child.cflags_cc);
    expect(target('husk_lab').dependencies).toContain('husk_lab_child');
  });

  it("keeps the escape lab's probe (it plants a leaked fd) out of the runtime's interpreter and out of npm install's static tools", () => {
    expect(target('husk_child').sources).not.toContain('native/escape_probe.cc');
    expect(target('husk_lab_child').sources).toContain('native/escape_probe.cc');
    // One executable target, husk-exec, which needs no libc at all (its own _start, raw syscalls);
    // husk-testinit (static, needs libc.a) is built by the tests (tests/helpers/testinit.ts).
    const executables = gyp.targets.filter((t) => t.type === 'executable');
    expect(executables.map((t) => t.target_name)).toEqual(['husk-exec']);
    expect((executables[0] as GypTarget & { ldflags?: string[] }).ldflags).toEqual(expect.arrayContaining(['-nostdlib', '-static']));
    expect(code('native/child.cc')).toMatch(/#ifdef HUSK_LAB_OPS\s+#include ""\s+#endif/);
  });

  it('includes no <string>, <vector>, <memory>, stdio or N-API, even indirectly', () => {
    const forbidden = /\/(string|vector|memory|iostream|sstream|stdio\.h|cstdio|napi\.h|basic_string\.h|stl_vector\.h|unique_ptr\.h|shared_ptr\.h|statvfs\.h)$/;
    for (const { sources, defines = [] } of childTargets) for (const source of sources) {
      // -H lists every header the compiler opens, one per line, dots first.
      const cxx = process.env.CXX ?? 'c++';
      const flags = ['-std=c++17', '-fno-exceptions', '-fno-rtti', ...defines.map((d) => `-D${d}`), '-fsyntax-only', '-H'];
      const run = spawnSync(cxx, [...flags, source], {
        cwd: repo,
        encoding: 'utf8',
      });
      expect(run.status, `${cxx} on ${source}: ${run.stderr}`).toBe(0);
      const headers = run.stderr
        .split('\n')
        .filter((line) => /^\.+ /.test(line))
        .map((line) => line.replace(/^\.+ /, ''));
      expect(headers.length, source).toBeGreaterThan(3);
      expect(headers.filter((h) => forbidden.test(h)), source).toEqual([]);
    }
  });

  it('allocates nothing, throws nothing, calls no glibc function that is not async-signal-safe, and is noexcept', () => {
    const banned = /\b(new|delete|throw|try|malloc|calloc|realloc|free|printf|fprintf|snprintf|fopen|statvfs|getpwnam|getenv|setenv|opendir|std)\b/;
    for (const source of childSources) {
      const lines = code(source).split('\n');
      expect(lines.filter((line) => banned.test(line)), source).toEqual([]);
      // Every function defined at file level says noexcept.
      const definitions = lines.filter((line) => /^(\[\[noreturn\]\] |inline |static )*[A-Za-z_][\w:<>*& ]*[ *&]\w+\([^;]*\)[^;]*\{$/.test(line));
      expect(definitions.length, source).toBeGreaterThan(0);
      expect(definitions.filter((line) => !line.includes('noexcept')), source).toEqual([]);
    }
  });
});
