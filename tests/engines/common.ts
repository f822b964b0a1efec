/** What the engine test files share: bounded waits (tests/helpers/wait.ts), a pty driver, and shell probes run inside containers. */
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export { waitFor } from '../helpers/wait.js';

/**
 * Runs `argv` on a real pty (util-linux `script`), typing `input` into it; resolves with the exit code
 * of the command (script -e) and everything the pty printed.
 */
export async function onPty(argv: string[], input: string, options: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ exitCode: number; output: string }> {
  const command = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const result = await execa('script', ['-q', '-e', '-c', command, '/dev/null'], {
    input,
    reject: false,
    timeout: 90_000,
    env: { ...process.env, ...options.env, TERM: 'xterm' },
    ...(options.cwd !== undefined && { cwd: options.cwd }),
  });
  return { exitCode: result.exitCode ?? -1, output: String(result.stdout) };
}

/**
 * A shell script for busybox that prints the container's own cgroup limits as `name=value` lines,
 * the same names on cgroup v1 and v2: memory (bytes or "max"), pids ("max" or N), cpu ("QUOTA PERIOD").
 */
export const printLimits = [
  'if [ -e /sys/fs/cgroup/cgroup.controllers ]; then',
  '  echo memory=$(cat /sys/fs/cgroup/memory.max); echo pids=$(cat /sys/fs/cgroup/pids.max); echo cpu=$(cat /sys/fs/cgroup/cpu.max)',
  'else',
  '  echo memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); echo pids=$(cat /sys/fs/cgroup/pids/pids.max)',
  '  echo cpu=$(cat /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)',
  'fi',
].join('\n');

/** Parses printLimits' output. */
export function parseLimits(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  );
}

/** A pid 1 that ignores SIGTERM (as PID 1 with a trap), says it is ready, and runs until killed. */
export const ignoresTerm = 'trap "" TERM; echo ready; while :; do sleep 0.2; done';
/** A pid 1 that exits 7 on SIGTERM. */
export const exitsOnTerm = 'trap "exit 7" TERM; echo ready; while :; do sleep 0.2; done';
/** Holds memory until the OOM killer comes: tail keeps the whole newline-free /dev/zero in memory. */
export const eatsMemory = 'tail /dev/zero';
/** The loopback's flags line: "UP" must be among them. */
export const loopbackState = 'ip -o link show lo';

/** The same limits as printLimits, read from the host for the cgroup at `path` (as a cgroupsPath names it). */
export function hostLimits(path: string): Record<string, string> {
  const read = (file: string): string => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      return '';
    }
  };
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const dir = join('/sys/fs/cgroup', path);
    return { memory: read(join(dir, 'memory.max')), pids: read(join(dir, 'pids.max')), cpu: read(join(dir, 'cpu.max')) };
  }
  const cpu = existsSync('/sys/fs/cgroup/cpu,cpuacct') ? '/sys/fs/cgroup/cpu,cpuacct' : '/sys/fs/cgroup/cpu';
  return {
    memory: read(join('/sys/fs/cgroup/memory', path, 'memory.limit_in_bytes')),
    pids: read(join('/sys/fs/cgroup/pids', path, 'pids.max')),
    cpu: `${read(join(cpu, path, 'cpu.cfs_quota_us'))} ${read(join(cpu, path, 'cpu.cfs_period_us'))}`,
  };
}
