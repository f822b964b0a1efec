import { getSystemErrorMap } from 'node:util';
import { HuskError } from '../errors.js';

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
export class SetupError extends HuskError {
  override name = 'SetupError';
  declare readonly code: string;
  declare readonly errno: number;
  declare readonly step: string;
  constructor(
    step: string,
    errno: number,
    detail?: string,
    /** The kind of the op that failed ("mount"), when a plan op did. */
    op?: string,
  ) {
    const code = errnoName(errno);
    super(`${step}: ${detail ?? `${code} (${errnoMessage(errno)})`}`, { code, errno: -Math.abs(errno), step, ...(op !== undefined && { op }) });
  }
}

/** A container-level failure that is not a kernel error: unknown id, wrong state... */
export class ContainerError extends HuskError {
  override name = 'ContainerError';
  declare readonly code: 'ENOTFOUND' | 'EEXIST' | 'ESTATE' | 'EINVAL' | 'EHOOK' | 'ECHILD' | 'EBUSY';
  constructor(message: string, code: ContainerError['code'] = 'EINVAL') {
    super(message, { code });
  }
}

/**
 * runc's own words for the failures engines tell apart by their text, so that husk is
 * understood where runc is: containerd's shim (pkg/process: a kill error containing
 * "container not running" is "process already finished", one containing "does not exist"
 * is "no such container", and `delete` ignores "does not exist"), dockerd's libcontainerd
 * ("container does not exist", "not found"), podman (`state` output containing "does not
 * exist" means the container is gone). Each message starts with runc's words; husk's own
 * detail follows after a colon (see runcWords()).
 */
export const runcPhrase = {
  notExist: 'container does not exist',
  exists: 'container with given ID already exists',
  notRunning: 'container not running',
  notPaused: 'container not paused',
  startRunning: 'cannot start an already running container',
  startStopped: 'cannot start a container that has stopped',
  execStopped: 'cannot exec in a stopped container',
  execPaused: 'cannot exec in a paused container',
  pathLookup: 'executable file not found in $PATH',
} as const;

/** runc's words first, husk's detail after: `container not running: cannot kill "web": it is stopped`. */
export function runcWords(phrase: string, detail: string): string {
  return `${phrase}: ${detail}`;
}
