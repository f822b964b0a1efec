/**
 * `ps -ef`'s columns read straight from /proc, without a ps binary, computed as
 * procps-ng computes them (see format.ts). A process may exit while we read it:
 * such a process is skipped, as ps skips it.
 */
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import {
  CLOCK_TICKS_PER_SECOND,
  cpuPercent,
  formatCommand,
  formatCpuTime,
  formatStartTime,
  formatUser,
  guessTtyPath,
  pidColumnWidthFor,
  ttyColumn,
  ttyMajor,
  ttyMinor,
} from './format.js';
import type { PsTable } from './parse.js';

/** What /proc/<pid>/{stat,status,cmdline} say about one process. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** One-letter state from stat (R, S, D, Z, T, t, X, I...). */
  state: string;
  /** stat's comm (the 15-character task name). */
  comm: string;
  /** stat's tty_nr: the controlling terminal as a kernel dev_t, 0 for none. */
  ttyNr: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  /** Start time after boot, in clock ticks. */
  startTicks: number;
  euid: number;
  /** The pid in the process's own (innermost) pid namespace, from NSpid; null on kernels without NSpid. */
  nsPid: number | null;
  /** /proc/<pid>/cmdline as read (NUL-separated). */
  cmdline: string;
}

/** The default columns of `ps -ef`. */
export const PS_EF_TITLES = ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'];

const GONE = new Set(['ENOENT', 'ESRCH']);

function isGone(error: unknown): boolean {
  return GONE.has((error as NodeJS.ErrnoException).code ?? '');
}

/** Reads a /proc file; undefined when the process is gone (ENOENT/ESRCH). */
function readProcFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}

/** Parses /proc/<pid>/stat; comm may hold spaces and parentheses, so split after the last ")". */
export function parseStat(text: string): Pick<ProcessInfo, 'pid' | 'comm' | 'state' | 'ppid' | 'ttyNr' | 'cpuTicks' | 'startTicks'> {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).trim().split(' ');
  const num = (i: number): number => Number(rest[i]);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: num(1),
    ttyNr: num(4),
    cpuTicks: num(11) + num(12),
    startTicks: num(19),
  };
}

/** Parses the fields we need from /proc/<pid>/status. */
export function parseStatus(text: string): { euid: number; nsPid: number | null } {
  let euid = -1;
  let nsPid: number | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('Uid:')) euid = Number(line.slice(4).trim().split(/\s+/)[1]);
    else if (line.startsWith('NSpid:')) {
      const ids = line.slice(6).trim().split(/\s+/);
      nsPid = Number(ids[ids.length - 1]);
    }
  }
  return { euid, nsPid };
}

/** One process from /proc, or undefined if it no longer exists. */
export function readProcess(pid: number): ProcessInfo | undefined {
  const stat = readProcFile(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const status = readProcFile(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const cmdline = readProcFile(`/proc/${pid}/cmdline`);
  if (cmdline === undefined) return undefined;
  return { ...parseStat(stat), ...parseStatus(status), cmdline };
}

/** uid -> user name from /etc/passwd (first entry wins, as getpwuid). */
export function readUserNames(passwdPath = '/etc/passwd'): Map<number, string> {
  const names = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(passwdPath, 'utf8');
  } catch {
    return names; // no passwd: every user shows as a number, as ps does
  }
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name === undefined || uid === undefined || !/^\d+$/.test(uid)) continue;
    const id = Number(uid);
    // procps's pwcache shows the number for names of 33+ bytes
    if (!names.has(id) && Buffer.byteLength(name) < 33) names.set(id, name);
  }
  return names;
}

/** The clock values ps uses: boot time (epoch seconds), CLOCK_BOOTTIME in ticks, and now. */
export interface ProcClock {
  bootEpochSeconds: number;
  uptimeTicks: number;
  nowEpochSeconds: number;
}

export function readClock(now: Date = new Date()): ProcClock {
  const stat = readFileSync('/proc/stat', 'utf8');
  const btime = /^btime (\d+)$/m.exec(stat);
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return {
    bootEpochSeconds: Number(btime?.[1] ?? 0),
    uptimeTicks: Math.trunc(uptime * CLOCK_TICKS_PER_SECOND),
    nowEpochSeconds: Math.trunc(now.getTime() / 1000),
  };
}

/** Width ps gives pid columns in this pid namespace. */
export function pidColumnWidth(): number {
  const text = readProcFile('/proc/sys/kernel/pid_max');
  return pidColumnWidthFor(text === undefined ? undefined : Number(text.trim()));
}

// ---------------------------------------------------------------------------
// Terminal names (procps devname.c dev_to_tty)

interface TtyDriver {
  name: string;
  numbered: boolean; // devfs-style "/dev/tts/%d"
  major: number;
  minorFirst: number;
  minorLast: number;
}

function readTtyDrivers(): TtyDriver[] {
  const text = readProcFile('/proc/tty/drivers') ?? '';
  const drivers: TtyDriver[] = [];
  for (const line of text.split('\n')) {
    const m = / \/dev\/(\S+)\s+(\d+)\s+(\d+)(?:-(\d+))?/.exec(line);
    if (!m) continue;
    let name = m[1]!;
    const numbered = name.length >= 3 && name.endsWith('%d');
    if (numbered) name = name.slice(0, -2);
    drivers.push({ name, numbered, major: Number(m[2]), minorFirst: Number(m[3]), minorLast: Number(m[4] ?? m[3]) });
  }
  return drivers.reverse(); // procps prepends each driver to its list, so later lines match first
}

function deviceMatches(path: string, major: number, minor: number): boolean {
  try {
    const rdev = statSync(path, { bigint: true }).rdev;
    const devMajor = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
    const devMinor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
    return devMajor === major && devMinor === minor;
  } catch {
    return false;
  }
}

function linkedDevice(pid: number, fd: string, major: number, minor: number): string | undefined {
  try {
    const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    return deviceMatches(target, major, minor) ? target : undefined;
  } catch {
    return undefined;
  }
}

/** The TTY column for a process: its terminal's name ("pts/3", "tty1"), "?" for none. */
export class TtyNamer {
  private drivers: TtyDriver[] | undefined;

  name(ttyNr: number, pid: number): string {
    if (ttyNr === 0) return '?';
    const major = ttyMajor(ttyNr);
    const minor = ttyMinor(ttyNr);
    return ttyColumn(
      this.fromDrivers(major, minor) ??
        linkedDevice(pid, '2', major, minor) ??
        this.guessed(major, minor) ??
        linkedDevice(pid, '255', major, minor),
    );
  }

  private fromDrivers(major: number, minor: number): string | undefined {
    this.drivers ??= readTtyDrivers();
    const driver = this.drivers.find((d) => d.major === major && d.minorFirst <= minor && d.minorLast >= minor);
    if (!driver) return undefined;
    const candidates = [`/dev/${driver.name}${minor}`, `/dev/${driver.name}/${minor}`];
    if (!driver.numbered) candidates.push(`/dev/${driver.name}`);
    // procps stops at the first path that exists, then requires it to be the device
    for (const path of candidates) {
      try {
        statSync(path);
      } catch {
        continue;
      }
      return deviceMatches(path, major, minor) ? path : undefined;
    }
    return undefined;
  }

  private guessed(major: number, minor: number): string | undefined {
    const path = guessTtyPath(major, minor);
    return path !== undefined && deviceMatches(path, major, minor) ? path : undefined;
  }
}

// ---------------------------------------------------------------------------

/** Shared by the table and the tree: reads processes and names their users and terminals. */
export class ProcReader {
  readonly users = readUserNames();
  readonly ttys = new TtyNamer();

  userName(uid: number): string | undefined {
    return this.users.get(uid);
  }
}

/** The row `ps -ef` prints for a process (UID PID PPID C STIME TTY TIME CMD). */
export function psEfRow(info: ProcessInfo, clock: ProcClock, reader: ProcReader): string[] {
  const startEpoch = clock.bootEpochSeconds + Math.trunc(info.startTicks / CLOCK_TICKS_PER_SECOND);
  return [
    formatUser(reader.userName(info.euid), info.euid),
    String(info.pid),
    String(info.ppid),
    String(cpuPercent(info.cpuTicks, info.startTicks, clock.uptimeTicks)),
    formatStartTime(startEpoch, clock.nowEpochSeconds),
    reader.ttys.name(info.ttyNr, info.pid),
    formatCpuTime(info.cpuTicks),
    formatCommand(info.cmdline, info.comm, info.state),
  ];
}

/**
 * `ps -ef`'s table for these pids, from /proc: rows in ascending pid order (as ps -ef
 * lists them), processes that are gone left out. `now` fixes the date STIME compares with.
 */
export function procTable(pids: readonly number[], now?: Date): PsTable {
  const reader = new ProcReader();
  const clock = readClock(now);
  const processes: string[][] = [];
  for (const pid of [...new Set(pids)].sort((a, b) => a - b)) {
    const info = readProcess(pid);
    if (info) processes.push(psEfRow(info, clock, reader));
  }
  return { titles: [...PS_EF_TITLES], processes };
}
