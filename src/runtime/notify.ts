/**
 * systemd's readiness protocol and socket activation passed through, as runc does
 * (notify_socket.go, LISTEN_FDS in utils_linux.go):
 *
 * - NOTIFY_SOCKET: `create` binds a directory of the container's state dir read-only
 *   at /run/notify in the container and sets NOTIFY_SOCKET=/run/notify/notify.sock
 *   for its process; `start` (run) listens on that socket before releasing the start
 *   gate, waits for the container's READY=..., and relays it to the caller's own
 *   NOTIFY_SOCKET with MAINPID=<init's pid> and a BARRIER=1 (sd_notify_barrier), so
 *   a Type=notify unit (or podman --sdnotify=container) learns the container is ready.
 * - LISTEN_FDS: the fds 3.. systemd passed to this process (LISTEN_PID = our pid) are
 *   kept open for the container's process, ahead of --preserve-fds, with
 *   LISTEN_FDS=<n> and LISTEN_PID=1 in its environment.
 */
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../native/index.js';
import type { Spec } from '../spec/types.js';

/** Where the container's NOTIFY_SOCKET is, inside it (runc's path). */
export const NOTIFY_SOCKET_IN_CONTAINER = '/run/notify/notify.sock';

/** The directory, in the container's state directory, bound at /run/notify. */
export function notifyDir(stateDir: string): string {
  return join(stateDir, 'notify');
}

/** What `create` adds to the config when its caller has a NOTIFY_SOCKET. */
export function addNotifySocket(spec: Spec, stateDir: string): void {
  if (spec.process === undefined) return;
  spec.mounts = [
    ...(spec.mounts ?? []),
    { destination: '/run/notify', type: 'bind', source: notifyDir(stateDir), options: ['bind', 'nosuid', 'noexec', 'nodev', 'ro'] },
  ];
  spec.process.env = [...(spec.process.env ?? []).filter((e) => !e.startsWith('NOTIFY_SOCKET=')), `NOTIFY_SOCKET=${NOTIFY_SOCKET_IN_CONTAINER}`];
}

/** Made by `create` (after the state dir is claimed), before the child mounts it. */
export function makeNotifyDir(stateDir: string): void {
  mkdirSync(notifyDir(stateDir), { mode: 0o755 });
}

/**
 * The fds systemd passed for socket activation: LISTEN_FDS of them from fd 3, when
 * LISTEN_PID names this process (go-systemd's activation.Files, which runc uses).
 */
export function listenFdsOf(env: NodeJS.ProcessEnv, pid: number): number {
  const count = Number(env['LISTEN_FDS']);
  if (!Number.isInteger(count) || count <= 0 || Number(env['LISTEN_PID']) !== pid) return 0;
  return count;
}

/** What `create` adds to the process's environment for `count` activation fds. */
export function addListenFds(spec: Spec, count: number): void {
  if (spec.process === undefined || count === 0) return;
  const kept = (spec.process.env ?? []).filter((e) => !e.startsWith('LISTEN_FDS=') && !e.startsWith('LISTEN_PID='));
  spec.process.env = [...kept, `LISTEN_FDS=${count}`, 'LISTEN_PID=1'];
}

/** How long the relay waits for the caller's manager to acknowledge the barrier (runc: 30 s). */
const BARRIER_TIMEOUT_MS = 30_000;

/** A listening relay: bound before the start gate opens, so no READY can be missed. */
export interface NotifyRelay {
  /** Waits for READY= from the container (or the init's exit) and relays it. */
  relay(pid: number): Promise<void>;
  close(): void;
}

/** Binds the container's notify socket when `create` prepared one; undefined otherwise. */
export function openNotifyRelay(stateDir: string, hostSocket: string): NotifyRelay | undefined {
  const dir = notifyDir(stateDir);
  if (!existsSync(dir)) return undefined;
  const path = join(dir, 'notify.sock');
  rmSync(path, { force: true }); // left by a start that failed
  const fd = native.unixDgramBind(path);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    native.closeRange(fd, fd);
  };
  try {
    chmodSync(path, 0o777); // whoever the container's process is may send to it
  } catch (error) {
    close();
    throw error;
  }
  return {
    close,
    async relay(pid) {
      let pidfd: number;
      try {
        pidfd = native.pidfdOpen(pid);
      } catch {
        return; // gone already
      }
      try {
        let ready = readyLine(fd);
        while (ready === undefined) {
          // A datagram came, or the init exited (its pidfd turns readable): then only what it sent before.
          const exited = (await native.waitAny([fd, pidfd])) === 1;
          ready = readyLine(fd);
          if (exited && ready === undefined) return;
        }
        notifyHost(hostSocket, ready, pid);
        await barrier(hostSocket);
      } finally {
        native.closeRange(pidfd, pidfd);
        close();
      }
    },
  };
}

/** The READY=... line of the waiting datagrams, if one came (other states are dropped, as runc). */
function readyLine(fd: number): string | undefined {
  for (let message = native.unixDgramRecv(fd); message !== null; message = native.unixDgramRecv(fd)) {
    const ready = message
      .toString('utf8')
      .split('\n')
      .find((line) => line.startsWith('READY='));
    if (ready !== undefined) return ready;
  }
  return undefined;
}

function notifyHost(hostSocket: string, ready: string, pid: number): void {
  native.unixDgramSend(hostSocket, `${ready}\n`);
  native.unixDgramSend(hostSocket, `MAINPID=${pid}\n`);
}

/** sd_notify_barrier: send a pipe's write end with BARRIER=1; the manager closes it once it has read all before. */
async function barrier(hostSocket: string): Promise<void> {
  const [readEnd, writeEnd] = native.pipe();
  try {
    try {
      native.unixDgramSend(hostSocket, 'BARRIER=1', writeEnd);
    } finally {
      native.closeRange(writeEnd, writeEnd);
    }
    await native.waitAny([readEnd], BARRIER_TIMEOUT_MS); // a manager without barriers never closes it: runc waits 30 s too
  } finally {
    native.closeRange(readEnd, readEnd);
  }
}
