/** Reading and writing cgroup interface files, with errors that say which file and field. */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../errors.js';
import { CgroupError, type ErrnoLike } from './errors.js';

export function readCgroupFile(dir: string, file: string): string {
  const path = join(dir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as ErrnoLike;
    throw new CgroupError(`reading ${path}: ${e.code ?? String(err)}`, { path, code: e.code, errno: e.errno, step: 'read', cause: err });
  }
}

/** undefined when the file does not exist (controller absent, older kernel). */
export function readOptional(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export function readNumber(dir: string, file: string): number | undefined {
  const text = readOptional(dir, file)?.trim();
  if (text === undefined || text === '') return undefined;
  if (text === 'max') return undefined;
  return Number(text);
}

export function hasFile(dir: string, file: string): boolean {
  return existsSync(join(dir, file));
}

/**
 * Writes one value (one write(2): cgroup files take one value per write). `jsonPath`
 * names the config field the value comes from.
 */
export function writeCgroupFile(dir: string, file: string, value: string, jsonPath?: string): void {
  const path = join(dir, file);
  try {
    writeFileSync(path, value);
  } catch (err) {
    const e = err as ErrnoLike;
    let hint = '';
    // cgroupfs answers EACCES, not ENOENT, to a write that would create a missing file.
    const missing = e.code === 'ENOENT' || ((e.code === 'EACCES' || e.code === 'EPERM') && !existsSync(path));
    if (missing) hint = ' (no such interface file: is the controller enabled for this cgroup and supported by the kernel?)';
    else if (e.code === 'EINVAL' || e.code === 'ERANGE') hint = ' (the kernel rejected the value)';
    else if (e.code === 'EBUSY') hint = ' (busy: the cgroup has tasks or children that prevent the change)';
    else if (e.code === 'EPERM' || e.code === 'EACCES') hint = ' (permission denied: this may need a capability the caller lacks, e.g. CAP_SYS_RESOURCE)';
    const where = jsonPath === undefined ? '' : `${jsonPath}: `;
    throw new CgroupError(`${where}writing ${JSON.stringify(value)} to ${path}: ${e.code ?? String(err)}${hint}`, {
      path,
      jsonPath,
      code: e.code,
      errno: e.errno,
      step: 'write',
      cause: err,
    });
  }
}

/** pids.current and pids.max: the same files on v1 and v2. */
export function pidsStats(dir: string): { current: number; limit?: number } | undefined {
  const current = readNumber(dir, 'pids.current');
  if (current === undefined) return undefined;
  const limit = readNumber(dir, 'pids.max');
  return limit === undefined ? { current } : { current, limit };
}
