/**
 * The dependency rules the README states, checked on the sources: no import
 * cycles; library folders never import cli/; planning and the spec layer load
 * without the addon; one definition of each shared helper. Type-only imports do
 * not count (they vanish at run time).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = resolve(import.meta.dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}
const files = sources(src);
const rel = (path: string): string => relative(src, path);

/** The relative modules a file loads at run time (not `import type`, not `{ type X }`-only lists). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?([\s\S]*?)\s*from\s+'(\.[^']+)'/gm)) {
    if (m[1] !== undefined) continue;
    const names = m[2]!.trim();
    if (/^\{[\s\S]*\}$/.test(names) && names.slice(1, -1).split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    found.push(resolve(dirname(file), m[3]!.replace(/\.js$/, '.ts')));
  }
  return found;
}
const graph = new Map(files.map((f) => [f, runtimeImports(f)]));

function reachable(from: string): Set<string> {
  const seen = new Set<string>();
  const walk = (f: string): void => {
    for (const d of graph.get(f) ?? []) {
      if (!seen.has(d)) {
        seen.add(d);
        walk(d);
      }
    }
  };
  walk(from);
  return seen;
}

describe('layering', () => {
  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].map(rel).join(' -> '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('keeps cli/ at the top: no library folder imports it', () => {
    const offenders = files
      .filter((f) => !rel(f).startsWith('cli/') && rel(f) !== 'cli.ts' && rel(f) !== 'cli-light.ts') // the CLI's two entries
      .flatMap((f) => [...(graph.get(f) ?? [])].filter((d) => rel(d).startsWith('cli/')).map((d) => `${rel(f)} -> ${rel(d)}`));
    expect(offenders).toEqual([]);
  });

  it('plans and reads specs without the addon (plan/ and spec/ never reach native/)', () => {
    for (const f of files.filter((f) => /^(plan|spec)\//.test(rel(f)))) {
      expect([...reachable(f)].map(rel).filter((d) => d.startsWith('native/')), rel(f)).toEqual([]);
    }
  });

  it('leaves the host alone in spec/ (defaults and validation probe nothing)', () => {
    for (const f of files.filter((f) => rel(f).startsWith('spec/') && rel(f) !== 'spec/load.ts')) {
      expect(readFileSync(f, 'utf8'), rel(f)).not.toMatch(/from 'node:fs'/);
    }
  });

  it('defines each shared helper once', () => {
    const definitions = (pattern: RegExp): string[] => files.filter((f) => pattern.test(readFileSync(f, 'utf8'))).map(rel);
    expect(definitions(/function errnoCode\(/)).toEqual(['errors.ts']);
    expect(definitions(/function writePidFile\(/)).toEqual(['runtime/pid-file.ts']);
    expect(definitions(/function formatTable\(/)).toEqual(['text/table.ts']);
    expect(definitions(/function isCgroup2UnifiedMode\(/)).toEqual(['cgroups/detect.ts']);
    // The namespace join order, as a list of the eight kinds starting with the user namespace.
    expect(definitions(/\[\s*'user',\s*'ipc',\s*'uts'/)).toEqual(['plan/namespaces.ts']);
  });
});
