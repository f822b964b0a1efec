import { renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/**
 * --pid-file: the pid written whole or not at all (a temp file renamed over it),
 * so an engine polling the file never reads a partial number. One writer for
 * create, run and exec.
 */
export function writePidFile(path: string, pid: number): void {
  const file = resolve(path);
  const temp = `${dirname(file)}/.${basename(file)}.tmp`;
  writeFileSync(temp, String(pid));
  renameSync(temp, file);
}
