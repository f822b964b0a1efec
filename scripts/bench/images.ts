/**
 * Pull + unpack of one image from a registry on loopback: husk against
 * `podman pull` (overlay driver, private --root/--runroot), cold (empty store)
 * and with the base layers already present. Run: `npx tsx scripts/bench/images.ts [RUNS]`.
 * The image: a busybox layer, a base layer of many small files (a copy of the
 * host's /usr/lib/python3*), and an application layer on top.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxEntries, craftLayout, type CraftedEntry } from '../../tests/helpers/image-fixtures.js';
import { push, startRegistry } from '../../tests/helpers/registry.js';

const runs = Number(process.argv[2] ?? 5);
const repo = new URL('../..', import.meta.url).pathname;
const cli = join(repo, 'dist', 'cli.js');

function filesUnder(dir: string, prefix: string, out: CraftedEntry[], budget: { bytes: number }): void {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined || budget.bytes <= 0) continue;
    if (st.isDirectory()) {
      out.push({ name: `${prefix}${name}/`, type: 'directory' });
      filesUnder(path, `${prefix}${name}/`, out, budget);
    } else if (st.isFile()) {
      out.push({ name: `${prefix}${name}`, data: readFileSync(path), mode: st.mode & 0o7777 });
      budget.bytes -= st.size;
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timed(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const work = mkdtempSync('/tmp/hbi-');
const registry = await startRegistry(join(work, 'registry'));
try {
  const python = readdirSync('/usr/lib').find((d) => /^python3\.\d+$/.test(d)) ?? 'python3';
  const baseFiles: CraftedEntry[] = [{ name: 'usr/', type: 'directory' }, { name: 'usr/lib/', type: 'directory' }, { name: `usr/lib/${python}/`, type: 'directory' }];
  filesUnder(`/usr/lib/${python}`, `usr/lib/${python}/`, baseFiles, { bytes: 40 << 20 });
  const app: CraftedEntry[] = [{ name: 'app/', type: 'directory' }, { name: 'app/run.sh', data: '#!/bin/sh\necho app\n', mode: 0o755 }];
  const base = await craftLayout(join(work, 'base'), [busyboxEntries(), baseFiles]);
  const full = await craftLayout(join(work, 'app'), [busyboxEntries(), baseFiles, app]);
  await push(`oci:${base.dir}`, registry, 'bench/base:1');
  await push(`oci:${full.dir}`, registry, 'bench/app:1');
  const ref = (name: string): string => `${registry.host}/bench/${name}:1`;
  const husk = (store: string, name: string): void => {
    execFileSync('node', [cli, '--store', store, 'pull', '--quiet', '--tls-verify=false', ref(name)], { stdio: 'ignore', env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } });
  };
  const podman = (root: string, name: string): void => {
    execFileSync('podman', ['--root', join(root, 'root'), '--runroot', join(root, 'runroot'), '--storage-driver', 'overlay', 'pull', '--quiet', '--tls-verify=false', ref(name)], { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const results: Record<string, number[]> = { 'husk cold': [], 'husk base present': [], 'podman cold': [], 'podman base present': [] };
  for (let i = 0; i < runs; i++) {
    for (const [tool, pullWith] of [['husk', husk], ['podman', podman]] as const) {
      const cold = join(work, `${tool[0]}c${i}`);
      results[`${tool} cold`]!.push(timed(() => pullWith(cold, 'app')));
      const warm = join(work, `${tool[0]}w${i}`);
      pullWith(warm, 'base');
      results[`${tool} base present`]!.push(timed(() => pullWith(warm, 'app')));
      for (const dir of [cold, warm]) {
        if (tool === 'podman') execFileSync('podman', ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--storage-driver', 'overlay', 'system', 'reset', '--force'], { stdio: 'ignore' });
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const size = execFileSync('du', ['-sb', join(full.dir, 'blobs')], { encoding: 'utf8' }).split('\t')[0];
  console.log(`image: 3 layers, ${baseFiles.length} base entries, ${(Number(size) / 1e6).toFixed(1)} MB of blobs; ${runs} runs each, median ms`);
  for (const [name, values] of Object.entries(results)) console.log(`${name.padEnd(22)} ${median(values).toFixed(0).padStart(6)} ms   (min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)})`);
} finally {
  await registry.stop();
  rmSync(work, { recursive: true, force: true });
}
