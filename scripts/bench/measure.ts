/**
 * Running commands under exec-timed (scripts/bench/exec-timed.c, compiled on
 * first use with the same C compiler node-gyp needs) and summarising samples.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'exec-timed.c');

/** One exec-timed result: a run (or a batch of runs) of one command. */
export interface Timed {
  wallNs: number;
  userUs: number;
  sysUs: number;
  maxRssKb: number;
  failures: number;
  firstFailure: number;
}

let helper: string | undefined;

/** Compiles exec-timed into a cache directory (again when the source is newer). */
export function execTimedBinary(): string {
  if (helper !== undefined) return helper;
  const dir = join(tmpdir(), 'husk-bench-tools');
  const binary = join(dir, 'exec-timed');
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(dir, { recursive: true });
    const cc = process.env['CC'] ?? 'cc';
    try {
      execFileSync(cc, ['-O2', '-o', binary, source], { stdio: ['ignore', 'inherit', 'inherit'] });
    } catch (error) {
      throw new Error(`cannot compile ${source} with ${cc} (apt-get install -y build-essential): ${(error as Error).message}`);
    }
  }
  helper = binary;
  return binary;
}

export interface TimedOptions {
  count?: number;
  parallel?: number;
  /** Join this mount namespace (a bind-mounted ns file) before timing. */
  mntns?: string;
  env?: NodeJS.ProcessEnv;
  /** Discard the command's stdout (default true). */
  quiet?: boolean;
}

/** Runs argv under exec-timed; throws with the command's stderr if any run failed. */
export function timed(argv: string[], options: TimedOptions = {}): Promise<Timed> {
  const args: string[] = [];
  if (options.mntns !== undefined) args.push('--mntns', options.mntns);
  if (options.count !== undefined) args.push('--count', String(options.count));
  if (options.parallel !== undefined) args.push('--parallel', String(options.parallel));
  if (options.quiet ?? true) args.push('--quiet');
  args.push('--', ...argv);
  // stderr goes to a file, not a pipe: a detached container inherits it, and a
  // pipe would stay open (and 'close' never come) until the container exits.
  const errFile = join(scratchDir(), `stderr-${process.pid}-${++calls}`);
  const errFd = openSync(errFile, 'w+');
  return new Promise<Timed>((resolve, reject) => {
    const child = spawn(execTimedBinary(), args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', errFd] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const err = readFileSync(errFile, 'utf8');
      if (code !== 0) return reject(new Error(`exec-timed ${argv.join(' ')}: exit ${code}: ${err.trim()}`));
      const result = JSON.parse(out) as Timed;
      if (result.failures > 0) {
        return reject(new Error(`${argv.join(' ')}: ${result.failures} of ${options.count ?? 1} runs failed (first: exit ${result.firstFailure}): ${err.trim()}`));
      }
      resolve(result);
    });
  }).finally(() => {
    closeSync(errFd);
    rmSync(errFile, { force: true });
  });
}

let calls = 0;
function scratchDir(): string {
  const dir = join(tmpdir(), 'husk-bench-tools');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(values: number[]): Summary {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/** Rotates `items` by `round` so each one goes first in turn (alternating the runtimes run by run). */
export function rotated<T>(items: T[], round: number): T[] {
  const k = items.length === 0 ? 0 : round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
