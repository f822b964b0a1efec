/**
 * Runs a command under a child subreaper, as an engine runs its runtime (conmon and
 * containerd-shim are subreapers): tests/helpers/subreaper.c, compiled here with the C
 * compiler node-gyp needs anyway. What reaches the subreaper once the command exits
 * (orphans, their exit statuses) is what an engine would see.
 */
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('./subreaper.c', import.meta.url));

export interface Reaped {
  pid: number;
  /** The exit code, or null when killed. */
  exitCode: number | null;
  signal: number | null;
}

export interface SubreaperRun {
  command: Reaped;
  orphans: Reaped[];
  stderr: string;
}

export interface Subreaper {
  /** Runs `args` under the subreaper; resolves once every orphan has been reaped (at most `timeoutSeconds`). */
  run(args: string[], timeoutSeconds?: number): Promise<SubreaperRun>;
  cleanup(): void;
}

export async function buildSubreaper(): Promise<Subreaper> {
  const dir = mkdtempSync(join(tmpdir(), 'husk-subreaper-'));
  const binary = join(dir, 'subreaper');
  await execa('cc', ['-O2', '-Wall', '-o', binary, source]);
  return {
    async run(args, timeoutSeconds = 60) {
      const result = await execa(binary, [String(timeoutSeconds), ...args], { reject: false, timeout: (timeoutSeconds + 10) * 1000 });
      if (result.exitCode !== 0) throw new Error(`subreaper ${args.join(' ')}: ${result.signal ?? `exit ${result.exitCode}`}: ${result.stdout} ${result.stderr}`);
      const lines = String(result.stdout).trim().split('\n');
      const parse = (line: string): Reaped => {
        const [, pid, how, value] = line.split(' ');
        return { pid: Number(pid), exitCode: how === 'exit' ? Number(value) : null, signal: how === 'signal' ? Number(value) : null };
      };
      return {
        command: parse(lines.find((l) => l.startsWith('command '))!),
        orphans: lines.filter((l) => l.startsWith('orphan ')).map(parse),
        stderr: String(result.stderr),
      };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
