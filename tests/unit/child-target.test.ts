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
const childTargets = [target('husk_child'), target('husk_lab_child'), target('husk-init')];
const childSources = [...new Set(childTargets.flatMap((t) => t.sources))];

/** Source text without comments and string literals (they may say "new" or "std::string"). */
const code = (file: string): string =>
  readFileSync(join(repo, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '""');

describe('the child target (native/child.cc and what it calls)', () => {
  it('is a static library of its own, built without exceptions or RTTI, linked into husk-init (carried by the addon), never into the addon', () => {
    const child = target('husk_child');
    expect(child.type).toBe('static_library');
    expect(childSources).toEqual(expect.arrayContaining(['native/child.cc', 'native/seccomp_filter.cc']));
    expect(child.cflags_cc).toEqual(expect.arrayContaining(['-fno-exceptions', '-fno-rtti']));
    expect(child.cflags_cc).not.toContain('-fexceptions');
    // husk-init: the child as a static program, the first exec of the runtime's clone.
    const init = target('husk-init');
    expect(init.dependencies).toEqual(['husk_child']);
    expect(init.cflags_cc).toEqual(child.cflags_cc);
    const addon = target('husk');
    expect(addon.dependencies).toContain('husk_init_blob');
    expect(addon.dependencies).not.toContain('husk_child');
    for (const source of [...childSources, ...init.sources]) expect(addon.sources).not.toContain(source);
    // The escape lab's interpreter is the same child with the lab's ops, built the same way.
    const lab = target('husk_lab_child');
    expect(lab.type).toBe('static_library');
    expect(lab.cflags_cc).toEqual(child.cflags_cc);
    expect(target('husk-lab-init').dependencies).toEqual(['husk_lab_child']);
    expect(target('husk_lab').dependencies).toContain('husk_lab_init_blob');
  });

  it("keeps the escape lab's probe (it plants a leaked fd) out of the runtime's interpreter and out of npm install's static tools", () => {
    expect(target('husk_child').sources).not.toContain('native/escape_probe.cc');
    expect(target('husk_lab_child').sources).toContain('native/escape_probe.cc');
    // Three executable targets: husk-exec, which needs no libc at all (its own _start, raw
    // syscalls), and the two husk-inits, static (libc.a), so that they load no host library;
    // husk-testinit is built by the tests (tests/helpers/testinit.ts).
    const executables = gyp.targets.filter((t) => t.type === 'executable') as (GypTarget & { ldflags?: string[] })[];
    expect(executables.map((t) => t.target_name)).toEqual(['husk-exec', 'husk-init', 'husk-lab-init']);
    expect(executables[0]!.ldflags).toEqual(expect.arrayContaining(['-nostdlib', '-static']));
    for (const init of executables.slice(1)) expect(expand(init.ldflags)).toContain('-static');
    expect(target('husk-init').sources).not.toContain('native/escape_probe.cc');
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

describe("the runtime's clone, while it shares Node's memory (native/launch.cc)", () => {
  /** The body of the function `name` defined in `source` (from its opening brace to the matching one). */
  const body = (source: string, name: string): string => {
    const text = code(source);
    const start = text.search(new RegExp(`\\b${name}\\([^;{]*\\)[^;{]*\\{`));
    expect(start, `${name} in ${source}`).toBeGreaterThanOrEqual(0);
    let depth = 0;
    for (let i = text.indexOf('{', start); i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) return text.slice(start, i + 1);
    }
    throw new Error(`${name}: unbalanced braces`);
  };

  it('makes inline system calls only until its execveat: no glibc call (errno, lazy PLT slots), nothing of the C++ library', () => {
    const allowed = new Set(['Sys', 'InheritAllFds', 'PlaceFd', 'IsPlaced', '__builtin_memcpy', 'reinterpret_cast', 'static_cast', 'sizeof', 'alignas', 'if', 'for', 'while', 'return']);
    const functions = ['StartInit', 'InheritAllFds', 'PlaceFd', 'IsPlaced'];
    for (const name of functions) {
      const text = body('native/launch.cc', name).replace(new RegExp(`^[^{]*\\b${name}\\(`), '{');
      const calls = [...text.matchAll(/\b([A-Za-z_]\w*)\s*(?:<[\w:*& ]*>)?\s*\(/g)].map((m) => m[1]!);
      expect(calls.filter((call) => !allowed.has(call)), name).toEqual([]);
    }
    // The clone is started on its own stack with CLONE_VM, and its entry is StartInit.
    expect(code('native/launch.cc')).toMatch(/CLONE_VM \| CLONE_VFORK/);
    expect(code('native/launch.cc')).toMatch(/Clone3OnStack\(&args, sizeof args, StartInit, &start\)/);
  });
});
