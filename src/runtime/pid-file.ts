import { resolve } from 'node:path';
import { writeFileAtomic } from './state.js';

/**
 * --pid-file: the pid written whole or not at all (a temp file renamed over it),
 * so an engine polling the file never reads a partial number. One writer for
 * create, run and exec.
 */
export function writePidFile(path: string, pid: number): void {
  // A temp name nobody can guess or plant (the directory may be anyone's, /tmp say).
  writeFileAtomic(resolve(path), String(pid), 0o644);
}
