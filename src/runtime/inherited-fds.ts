/**
 * The fds this process was given by whoever started it: the only ones
 * `--preserve-fds N` may pass on (fds 3 .. 3+N-1, as runc's contract says).
 *
 * Close-on-exec cannot tell them apart: Node marks every fd from 0 to 15 (and
 * the ones contiguous above) close-on-exec at start (uv_disable_stdio_inheritance),
 * the inherited ones included, and the child clears the flag on the preserved
 * range. So the fds open when this module is first loaded (before husk opens any
 * file of its own) are recorded with their identity, less the ones Node and libuv
 * made for themselves before any JavaScript ran (event loops, eventfds, the signal
 * pipes, io_uring): those are anonymous inodes, or pipes whose two ends are both ours.
 */
import { fstatSync, readdirSync, readlinkSync } from 'node:fs';
import { ContainerError } from './errors.js';

/** The child moves its own fds to 900 and up (native/child.cc kHighFd): preserved fds stay below. */
export const MAX_PRESERVED_FDS = 900 - 3;

interface Identity {
  dev: number;
  ino: number;
}

const inherited: Map<number, Identity> = snapshot();

function snapshot(): Map<number, Identity> {
  const found = new Map<number, Identity>();
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return found; // no procfs: nothing can be preserved
  }
  const targets = new Map<number, string>();
  for (const entry of entries) {
    const fd = Number(entry);
    if (fd < 3) continue;
    try {
      targets.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the fd readdir itself used
    }
  }
  const pipeEnds = new Map<string, number>();
  for (const target of targets.values()) if (target.startsWith('pipe:')) pipeEnds.set(target, (pipeEnds.get(target) ?? 0) + 1);
  for (const [fd, target] of targets) {
    if (target.startsWith('anon_inode:')) continue; // [eventpoll], [eventfd], [io_uring], [signalfd]...
    if (target.startsWith('pipe:') && pipeEnds.get(target)! > 1) continue; // a self-pipe (libuv's signal pipes)
    try {
      const stat = fstatSync(fd);
      found.set(fd, { dev: stat.dev, ino: stat.ino });
    } catch {
      // closed meanwhile
    }
  }
  return found;
}

/**
 * Refuses `--preserve-fds N` unless fds base .. base+N-1 are all fds this process was
 * given, still open on the same file (runc: "unable to stat preserved-fd"). `base` is 3,
 * or 3 + LISTEN_FDS when systemd's socket-activation fds come first (as runc orders them).
 */
export function checkPreservedFds(count: number, base = 3): void {
  if (!Number.isInteger(count) || count < 0 || base + count > 3 + MAX_PRESERVED_FDS) {
    throw new ContainerError(`--preserve-fds ${count}: must be an integer from 0 to ${3 + MAX_PRESERVED_FDS - base}`, 'EINVAL');
  }
  for (let fd = base; fd < base + count; fd++) {
    const given = inherited.get(fd);
    let now: Identity | undefined;
    try {
      now = fstatSync(fd);
    } catch {
      now = undefined;
    }
    if (given === undefined || now === undefined || now.dev !== given.dev || now.ino !== given.ino) {
      // runc's phrase, with its 0-based index
      const why = now === undefined ? `stat /proc/self/fd/${fd}: no such file or directory` : `fd ${fd} is husk's own, not one it was given`;
      throw new ContainerError(`unable to stat preserved-fd ${fd - base} (of ${count}): ${why}`, 'EINVAL');
    }
  }
}
