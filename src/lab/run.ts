/**
 * Running the escape lab for real: a throwaway rootfs and a marker holding a
 * random secret beside it (outside it), then one contained child per
 * configuration x attempt. Leaves nothing behind: every child is reaped, any
 * mount a probe left under the lab's directory is detached, and the directory
 * is removed (never through a mount).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../native/index.js';
import { mountsUnder as mountsUnderInTableOrder } from '../sys/mountinfo.js';
import { HuskError } from '../errors.js';
import { launchPlan } from '../runtime/launch.js';
import { labInterpreter } from './native.js';
import { hostRootfsSpec } from '../runtime/host-rootfs.js';
import { isCgroup2UnifiedMode } from '../cgroups/index.js';
import { explainRow, whyOf } from './explain.js';
import { attempts, configurations, type LabSetup, planRow } from './plan.js';
import type { AttemptId, ConfigurationId, EscapeLabReport, EscapeResult } from './types.js';

export interface EscapeLabOptions {
  /** Where the lab's temp directory goes (default: os.tmpdir(), or /tmp if that is under /run). */
  baseDir?: string;
  /** Only these configurations / attempts (default: all). */
  configurations?: ConfigurationId[];
  attempts?: AttemptId[];
  /** Called after each row, for progress output. */
  onResult?: (result: EscapeResult) => void;
}

/** The probe's one line (native/escape_probe.h). */
export type ProbeLine =
  | { outcome: 'escaped'; step: string; evidence: string }
  | { outcome: 'held'; errno: string; step: string };

export function parseProbeLine(text: string): ProbeLine | undefined {
  const line = text.split('\n')[0] ?? '';
  let m = /^escaped (\S+) (.*)$/.exec(line);
  if (m) return { outcome: 'escaped', step: m[1]!, evidence: m[2]! };
  m = /^held (\S+) (\S+)$/.exec(line);
  if (m) return { outcome: 'held', errno: m[1]!, step: m[2]! };
  return undefined;
}

export class EscapeLabError extends HuskError {
  override name = 'EscapeLabError';
  constructor(message: string, path?: string) {
    super(path === undefined ? message : `${message}: ${path}`, path === undefined ? {} : { path });
  }
}

function labBaseDir(): string {
  const base = tmpdir();
  // /run holds runtime state; a throwaway lab does not belong there.
  return base === '/run' || base.startsWith('/run/') ? '/tmp' : base;
}

/** Mount points at or below `dir` in this process's mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  // deepest first, so each detach meets no mount stacked on top of it
  return mountsUnderInTableOrder(dir).reverse();
}

/** Detaches whatever a probe left mounted under the lab (a probe killed mid-attempt); returns what it did. */
function detachLeftovers(dir: string): string[] {
  const done: string[] = [];
  for (const mountPoint of mountsUnder(dir)) {
    native.umount2(mountPoint, native.constants.MNT_DETACH);
    done.push(`detached a mount left at ${mountPoint}`);
  }
  return done;
}

interface Lab {
  dir: string;
  rootfs: string;
  marker: string;
  secret: string;
}

function makeLab(baseDir: string): Lab {
  const dir = mkdtempSync(join(baseDir, 'husk-escape-lab-'));
  try {
    chmodSync(dir, 0o755);
    const rootfs = join(dir, 'rootfs');
    mkdirSync(rootfs, { mode: 0o755 });
    for (const sub of ['proc', 'tmp']) mkdirSync(join(rootfs, sub), { mode: 0o755 });
    const secret = randomBytes(16).toString('hex');
    const marker = join(dir, 'marker');
    writeFileSync(marker, `${secret}\n`, { mode: 0o600 });
    return { dir, rootfs, marker, secret };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function removeLab(lab: Lab, cleanup: string[]): void {
  cleanup.push(...detachLeftovers(lab.dir));
  const still = mountsUnder(lab.dir);
  if (still.length > 0) throw new EscapeLabError(`refusing to remove the lab directory: still mounted under it: ${still.join(', ')}`, lab.dir);
  rmSync(lab.dir, { recursive: true, force: true });
}

async function runRow(lab: Lab, base: Omit<LabSetup, 'outputFd'>, configuration: ConfigurationId, attempt: AttemptId, index: number): Promise<EscapeResult> {
  const outPath = join(lab.dir, `row-${index}.out`);
  const outputFd = openSync(outPath, 'w+', 0o600);
  let row: Omit<EscapeResult, 'why' | 'explanation'>;
  try {
    const plan = planRow({ ...base, outputFd }, configuration, attempt);
    const child = await launchPlan(plan, {}, undefined, labInterpreter);
    const exit = await child.wait();
    const line = parseProbeLine(readFileSync(outPath, 'utf8'));
    if (line === undefined) {
      const how = exit.signal !== null ? `killed by ${exit.signal}` : `exit status ${exit.exitCode}`;
      row = { configuration, attempt, outcome: 'error', error: `the probe reported nothing (${how})` };
    } else if (line.outcome === 'held') {
      row = { configuration, attempt, outcome: 'held', step: line.step, errno: line.errno };
    } else if (line.evidence !== lab.secret) {
      row = { configuration, attempt, outcome: 'error', error: `the probe read "${line.evidence}", not the marker's secret` };
    } else {
      row = { configuration, attempt, outcome: 'escaped', step: line.step, secretReadBack: line.evidence };
    }
  } catch (error) {
    // The jail itself could not be set up (a SetupError naming the step and errno).
    row = { configuration, attempt, outcome: 'error', error: (error as Error).message };
  } finally {
    closeSync(outputFd);
    unlinkSync(outPath);
  }
  return { ...row, why: whyOf(row), explanation: explainRow(row) };
}

/** Runs every configuration x attempt and returns the report. Needs root. */
export async function runEscapeLab(options: EscapeLabOptions = {}): Promise<EscapeLabReport> {
  if (process.geteuid?.() !== 0) throw new EscapeLabError('the escape lab needs root (it builds real jails: chroot, namespaces, pivot_root)');
  const selectedConfigs = configurations.filter((c) => options.configurations?.includes(c.id) ?? true);
  const selectedAttempts = attempts.filter((a) => options.attempts?.includes(a.id) ?? true);
  const lab = makeLab(options.baseDir ?? labBaseDir());
  const cleanup: string[] = [];
  const results: EscapeResult[] = [];
  // Ctrl-C ends the lab after the current row (a few ms), so the cleanup below still runs.
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = signal;
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  try {
    const embedded = hostRootfsSpec(['escape-probe'], 'husk-escape-lab', false);
    const base: Omit<LabSetup, 'outputFd'> = {
      rootfs: lab.rootfs,
      labDir: lab.dir,
      marker: lab.marker,
      leakDir: '/',
      hostPid: process.pid,
      hostMountNsInode: statSync('/proc/self/ns/mnt').ino,
      lastCap: Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8')),
      permittedCaps: Number(native.capGet(0).permitted),
      container: {
        spec: embedded.spec,
        symlinks: embedded.symlinks,
        // No cgroup of its own: the default container runs in the lab's cgroup.
        cgroupMount: isCgroup2UnifiedMode() ? { kind: 'v2' } : { kind: 'v1', hierarchies: [] },
      },
    };
    let index = 0;
    for (const configuration of selectedConfigs) {
      for (const attempt of selectedAttempts) {
        if (interrupted !== undefined) throw new EscapeLabError(`interrupted by ${interrupted}; the lab was cleaned up`);
        const result = await runRow(lab, base, configuration.id, attempt.id, index++);
        cleanup.push(...detachLeftovers(lab.dir));
        results.push(result);
        options.onResult?.(result);
      }
    }
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
    removeLab(lab, cleanup);
  }
  const defaultIds = new Set(configurations.filter((c) => c.isDefault).map((c) => c.id));
  return {
    version: 1,
    kernel: release(),
    marker: lab.marker,
    secret: lab.secret,
    rootfs: lab.rootfs,
    configurations: selectedConfigs.map((c) => ({ ...c })),
    attempts: selectedAttempts.map((a) => ({ ...a })),
    results,
    defaultEscaped: results.some((r) => defaultIds.has(r.configuration) && r.outcome === 'escaped'),
    cleanup,
  };
}
