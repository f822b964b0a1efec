/**
 * runc, the reference runtime, driven beside husk in the same test: a private state root,
 * containers in a cgroup beneath the test's own (a relative linux.cgroupsPath, which
 * runc's cgroupfs driver resolves against its own cgroup on each hierarchy, as husk's
 * `--cgroup-parent self` does), removed at the end.
 */
import { execa, type Options, type ResultPromise } from 'execa';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../../src/spec/types.js';

export interface Runc {
  root: string;
  /** The subprocess; never rejects. */
  run(args: string[], options?: Options): ResultPromise;
  /** For verbs that leave a container running (`run -d`, `create`): stdio are files, not pipes it would keep open. */
  detached(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  cleanup(): Promise<void>;
}

export const runcBinary = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));

/** Fails plainly when runc is missing: scripts/install-test-deps.sh installs it. */
export function makeRunc(): Runc {
  if (runcBinary === undefined) throw new Error('runc is not installed (scripts/install-test-deps.sh installs it)');
  const binary = runcBinary;
  const root = mkdtempSync('/run/husk-test-runc-');
  let outputs = 0;
  return {
    root,
    run: (args, options = {}) => execa(binary, ['--root', root, ...args], { reject: false, timeout: 60_000, ...options }) as ResultPromise,
    async detached(args) {
      const base = join(root, `.out-${outputs++}`);
      const out = openSync(`${base}.stdout`, 'w');
      const err = openSync(`${base}.stderr`, 'w');
      const child = spawn(binary, ['--root', root, ...args], { stdio: ['ignore', out, err] });
      closeSync(out);
      closeSync(err);
      const exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 128)));
      const read = (file: string): string => readFileSync(file, 'utf8').replace(/\n$/, '');
      const result = { exitCode, stdout: read(`${base}.stdout`), stderr: read(`${base}.stderr`) };
      rmSync(`${base}.stdout`);
      rmSync(`${base}.stderr`);
      return result;
    },
    async cleanup() {
      const ids = existsSync(root) ? readdirSync(root).filter((e) => !e.startsWith('.')) : [];
      for (const id of ids) await execa(binary, ['--root', root, 'delete', '--force', id], { reject: false });
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Makes a spec runc 1.1 runs beneath the test's own cgroup: a relative cgroupsPath. */
export function forRunc(spec: Spec, id: string): void {
  spec.linux = { ...spec.linux, cgroupsPath: `husk-test-runc-${id}` };
}
