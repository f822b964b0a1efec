/**
 * SCMP_ACT_NOTIFY: the child installs its filter with SECCOMP_FILTER_FLAG_NEW_LISTENER
 * and passes the notify fd to the runtime (kind SeccompNotify on the sync socket); the
 * runtime sends it on to linux.seccomp.listenerPath as runc does: one message on a unix
 * stream socket, the fd attached with SCM_RIGHTS, and runtime-spec's
 * containerProcessState JSON as its data.
 */
import { native } from '../native/index.js';
import { OCI_VERSION } from '../spec/defaults.js';
import type { LinuxSeccomp, State } from '../spec/types.js';
import { SetupError } from './errors.js';

/** runtime-spec config-linux.md "containerProcessState" (runc's specs.ContainerProcessState). */
export interface ContainerProcessState {
  ociVersion: string;
  /** Names of the fds sent along, in order: ["seccompFd"]. */
  fds: string[];
  /** The process the filter is for (the init, or a process of `husk exec`). */
  pid: number;
  metadata?: string;
  state: State;
}

/** Sends the notify fd and the process state to the listener; closes the fd either way. */
export function sendToSeccompListener(seccomp: LinuxSeccomp | undefined, notifyFd: number, pid: number, state: State): void {
  try {
    const path = seccomp?.listenerPath;
    if (path === undefined || path === '') throw new SetupError('hand over the seccomp notify fd', 22, 'linux.seccomp.listenerPath is not set');
    const message: ContainerProcessState = {
      ociVersion: OCI_VERSION,
      fds: ['seccompFd'],
      pid,
      ...(seccomp?.listenerMetadata !== undefined && seccomp.listenerMetadata !== '' && { metadata: seccomp.listenerMetadata }),
      state,
    };
    try {
      native.sendFdToSocket(path, notifyFd, JSON.stringify(message));
    } catch (error) {
      const e = error as { errno?: number; syscall?: string };
      throw new SetupError(`send the seccomp notify fd to the listener ${path} (${e.syscall ?? 'connect'})`, Math.abs(e.errno ?? 5));
    }
  } finally {
    native.closeRange(notifyFd, notifyFd);
  }
}
