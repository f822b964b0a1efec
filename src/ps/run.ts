/** Running the host's `ps` for a set of pids, as moby's ContainerTop does. */
import { execFile } from 'node:child_process';
import { PsError } from './errors.js';
import { parsePsOutput, validatePsArgs, type PsTable } from './parse.js';

interface PsRun {
  ok: boolean;
  stdout: string;
  stderr: string;
  code?: string;
}

function runPs(args: readonly string[]): Promise<PsRun> {
  return new Promise((resolve) => {
    execFile('ps', [...args], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve({ ok: true, stdout, stderr });
      const code = typeof error.code === 'string' ? error.code : undefined;
      resolve({ ok: false, stdout, stderr, ...(code !== undefined ? { code } : {}) });
    });
  });
}

/**
 * Runs `ps` with psArgs (default `-ef`) and keeps the rows of `pids`, header kept.
 * Like moby: asks ps for just those pids (`-q`), and when ps refuses that (some
 * options, e.g. the forest `f`, can't be combined with -q; ps also fails when none
 * of the pids is left) runs it again for all processes and filters.
 */
export async function psTable(pids: readonly number[], psArgs: readonly string[] = ['-ef']): Promise<PsTable> {
  validatePsArgs(psArgs);
  const quick = pids.length > 0 ? await runPs([...psArgs, `-q${pids.join(',')}`]) : undefined;
  const run = quick && (quick.ok || quick.code === 'ENOENT') ? quick : await runPs(psArgs);
  if (run.code === 'ENOENT') {
    throw new PsError('the host has no ps command: only the default columns (read from /proc) are available', {
      reason: 'ps-missing',
      psArgs: [...psArgs],
      code: 'ENOENT',
    });
  }
  if (!run.ok) {
    const firstLine = run.stderr.split('\n')[0] ?? '';
    throw new PsError(`ps ${psArgs.join(' ')} failed: ${firstLine || run.code || 'non-zero exit'}`, {
      reason: 'ps-failed',
      psArgs: [...psArgs],
      stderr: firstLine,
      ...(run.code !== undefined ? { code: run.code } : {}),
    });
  }
  return parsePsOutput(run.stdout, pids);
}
