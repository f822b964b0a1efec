import { getSystemErrorMap } from 'node:util';

/** libuv's table, keyed by negative errno: [name, message]. */
const systemErrors = getSystemErrorMap();

/** "ENOENT" for 2 (or -2). */
export function errnoName(errno: number): string {
  return systemErrors.get(-Math.abs(errno))?.[0] ?? `E${Math.abs(errno)}`;
}

/** "no such file or directory" for 2 (or -2). */
export function errnoMessage(errno: number): string {
  return systemErrors.get(-Math.abs(errno))?.[1] ?? `error ${Math.abs(errno)}`;
}

/**
 * A step of a child's plan failed before exec: which step (e.g. "mount proc on
 * /proc"), with the errno the kernel gave. One error type for every setup failure,
 * as crun has one error struct per failure.
 */
export class SetupError extends Error {
  override name = 'SetupError';
  readonly code: string;
  readonly errno: number;
  constructor(
    readonly step: string,
    errno: number,
    detail?: string,
  ) {
    const code = errnoName(errno);
    super(`${step}: ${detail ?? `${code} (${errnoMessage(errno)})`}`);
    this.code = code;
    this.errno = -Math.abs(errno);
  }
}

/** A container-level failure that is not a kernel error: unknown id, wrong state... */
export class ContainerError extends Error {
  override name = 'ContainerError';
  constructor(
    message: string,
    readonly code: 'ENOTFOUND' | 'EEXIST' | 'ESTATE' | 'EINVAL' | 'EHOOK' | 'ECHILD' = 'EINVAL',
  ) {
    super(message);
  }
}
