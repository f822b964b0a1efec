import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, native } from '../native/index.js';
import type { LinuxResources } from '../cgroups/index.js';
import type { ContainerStatus, Hook, LinuxSeccomp, Process, State } from '../spec/types.js';
import { ContainerError, runcPhrase, runcWords } from './errors.js';

/** What husk keeps about a container (state.json in its state directory). */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** How far `create` got; running/stopped/paused are read from the live system. */
  phase: 'creating' | 'created';
  bundle: string;
  rootfs: string;
  annotations?: Record<string, string>;
  pid?: number;
  /** Field 22 of /proc/<pid>/stat at create: tells our init from a process that reused its pid. */
  pidStartTime?: number;
  created: string;
  /** The cgroup manager's own serialization (src/cgroups). */
  cgroup?: unknown;
  /** The resources last applied to the cgroup (at create, then by update), which update merges into. */
  resources?: LinuxResources;
  /** The container's process config: what `exec` starts from. */
  process?: Process;
  /** The container's linux.seccomp: `exec` installs the same filter. */
  seccomp?: LinuxSeccomp;
  /** A container run from an image: its store and its own layer (upper, work, the merged rootfs). */
  image?: { id: string; store: string; layer: string };
  /** Hooks that run after `create` returns, by other husk invocations. */
  hooks?: { poststart?: Hook[]; poststop?: Hook[] };
}

const idPattern = /^[\w+\-.]+$/;

export function validateId(id: string): void {
  if (!idPattern.test(id) || id === '.' || id === '..') {
    throw new ContainerError(`invalid container id "${id}": use letters, digits, "_", "+", "-" and "."`, 'EINVAL');
  }
}

/** The state directory (--root) and one subdirectory per container. */
export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  gatePath(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  /**
   * Claims the id: mkdir is atomic, so of two concurrent `create`s of one id
   * exactly one wins and the other gets a clear error.
   */
  claim(id: string): void {
    validateId(id);
    // 0700 as runc makes it: state.json holds the container's whole process config.
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    try {
      mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (error) {
      if ((error as { code?: string }).code === 'EEXIST') {
        throw new ContainerError(runcWords(runcPhrase.exists, `"${id}"`), 'EEXIST');
      }
      throw error;
    }
  }

  /** Writes state.json atomically (temp file, then rename). */
  write(record: ContainerRecord): void {
    writeFileAtomic(join(this.dir(record.id), 'state.json'), JSON.stringify(record));
  }

  read(id: string): ContainerRecord {
    validateId(id);
    const file = join(this.dir(id), 'state.json');
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as ContainerRecord;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENOENT' && existsSync(this.dir(id))) {
        // Claimed but never written: a create killed at its very first step.
        return { ociVersion: '1.2.0', id, phase: 'creating', bundle: '', rootfs: '', created: new Date(0).toISOString() };
      }
      if (code === 'ENOENT') throw containerNotFound(id);
      throw error;
    }
  }

  exists(id: string): boolean {
    return existsSync(this.dir(id));
  }

  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** Removes the container's directory: most often only state.json is left in it. */
  remove(id: string): void {
    const dir = this.dir(id);
    try {
      unlinkSync(join(dir, 'state.json'));
      rmdirSync(dir);
    } catch {
      rmSync(dir, { recursive: true, force: true }); // the gate, a notify socket, a generated rootfs...
    }
  }

  /**
   * Runs fn holding an exclusive lock on the container's directory (start vs delete...).
   * Never blocks the event loop (an API process serves others meanwhile): the lock is
   * tried, and retried with a growing pause. Once held, the directory must still be the
   * one locked: a delete and a create of the same id meanwhile make a new one, whose
   * lock is what counts.
   */
  async withLock<T>(id: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
      let fd: number;
      try {
        fd = openSync(this.dir(id), 'r');
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') throw containerNotFound(id);
        throw error;
      }
      let locked = false;
      try {
        locked = native.flock(fd, constants.LOCK_EX | constants.LOCK_NB) && sameInode(fd, this.dir(id));
      } finally {
        if (!locked) closeSync(fd);
      }
      if (locked) {
        try {
          return await fn();
        } finally {
          closeSync(fd);
        }
      }
      if (Date.now() > deadline) throw new ContainerError(`container "${id}" is locked by another husk process (waited ${timeoutMs / 1000}s)`, 'EBUSY');
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** Whether the open directory `fd` is still what `path` names (not removed, not replaced). */
function sameInode(fd: number, path: string): boolean {
  const held = fstatSync(fd);
  try {
    const now = statSync(path);
    return now.ino === held.ino && now.dev === held.dev;
  } catch {
    return false; // removed: the next try says "does not exist"
  }
}

let temps = 0;

/**
 * Writes `file` atomically: a temp file of a name no one else uses (this process's pid and
 * a counter; created with O_EXCL, so nothing planted there is followed, and a name taken,
 * left by a dead process of the same pid, is passed over), then rename over the file.
 */
export function writeFileAtomic(file: string, data: string, mode = 0o600): void {
  for (let tries = 1; ; tries++) {
    const temp = `${file}.${process.pid}.${++temps}.tmp`;
    try {
      writeFileSync(temp, data, { mode, flag: 'wx' });
    } catch (error) {
      if ((error as { code?: string }).code === 'EEXIST') {
        if (tries < 100) continue;
        throw error;
      }
      try {
        unlinkSync(temp); // made, but the write failed (ENOSPC...)
      } catch {
        // never made
      }
      throw error;
    }
    try {
      renameSync(temp, file);
      return;
    } catch (error) {
      unlinkSync(temp);
      throw error;
    }
  }
}

/** An unknown id, in runc's words. */
export function containerNotFound(id: string): ContainerError {
  return new ContainerError(runcWords(runcPhrase.notExist, `"${id}"`), 'ENOTFOUND');
}

/** Field 22 (starttime) and field 3 (state) of /proc/<pid>/stat, or undefined if gone. */
export function procStat(pid: number): { state: string; startTime: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: the fields start after the last ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, startTime: Number(fields[19]) };
}

/** True while the record's init runs: same pid, same start time, not a zombie. */
export function initAlive(record: ContainerRecord): boolean {
  if (record.pid === undefined) return false;
  const stat = procStat(record.pid);
  if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return false;
  return record.pidStartTime === undefined || stat.startTime === record.pidStartTime;
}

/** The status runtime.md defines, read from the live system. */
export function deriveStatus(store: StateStore, record: ContainerRecord, frozen: () => boolean): ContainerStatus {
  if (record.phase === 'creating') return record.pid !== undefined && !initAlive(record) ? 'stopped' : 'creating';
  if (!initAlive(record)) return 'stopped';
  if (existsSync(store.gatePath(record.id))) return 'created';
  return frozen() ? 'paused' : 'running';
}

export function toOciState(record: ContainerRecord, status: ContainerStatus): State {
  const state: State = { ociVersion: record.ociVersion, id: record.id, status, bundle: record.bundle };
  if (record.pid !== undefined && status !== 'stopped') state.pid = record.pid;
  if (record.annotations !== undefined) state.annotations = record.annotations;
  return state;
}
