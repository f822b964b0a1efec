/**
 * Tiny /proc readers for tests: the oracle the ps tests check src/ps against,
 * so deliberately independent of it.
 */
import { readFileSync } from 'node:fs';

/** The children of `pid` (its main thread's), in ascending pid order; [] once it is gone. */
export function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text ? text.split(' ').map(Number).sort((a, b) => a - b) : [];
  } catch {
    return [];
  }
}

/** /proc/<pid>/comm, or '' once the process is gone. */
export function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
