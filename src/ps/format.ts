/**
 * The procps-ng computations behind `ps -ef`'s columns, as pure functions, and the
 * procps column layout used to print a table the way ps prints it.
 * References: procps-ng src/ps/output.c (pr_c, pr_stime, pr_time, do_pr_name,
 * show_one_proc), library/pids.c (UTILIZATION, TIME_ALL), library/devname.c.
 */
import type { PsTable } from './parse.js';

/** Linux reports /proc times in USER_HZ ticks, which is 100 on every mainstream architecture. */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * The C column: lifetime CPU use in percent, truncated, capped at 99.
 * procps: (utime+stime)*100 / (now - start) in ticks, where "now" is CLOCK_BOOTTIME in ticks.
 */
export function cpuPercent(cpuTicks: number, startTicks: number, bootTicksNow: number): number {
  const elapsed = bootTicksNow - startTicks;
  if (elapsed <= 0) return 0;
  return Math.min(99, Math.trunc((cpuTicks * 100) / elapsed));
}

/** The TIME column: cumulative CPU time (utime+stime, whole seconds) as [DD-]HH:MM:SS. */
export function formatCpuTime(cpuTicks: number, ticksPerSecond = CLOCK_TICKS_PER_SECOND): string {
  let t = Math.trunc(cpuTicks / ticksPerSecond);
  const ss = t % 60;
  t = Math.trunc(t / 60);
  const mm = t % 60;
  t = Math.trunc(t / 60);
  const hh = t % 24;
  const dd = Math.trunc(t / 24);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${dd ? `${dd}-` : ''}${two(hh)}:${two(mm)}:${two(ss)}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The STIME column, in local time: "HH:MM" if the process started on today's date,
 * "MonDD" if earlier this year, else the year (procps compares tm_yday and tm_year).
 */
export function formatStartTime(startEpochSeconds: number, nowEpochSeconds: number): string {
  const start = new Date(startEpochSeconds * 1000);
  const now = new Date(nowEpochSeconds * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  if (start.getFullYear() !== now.getFullYear()) return String(start.getFullYear());
  if (start.getMonth() !== now.getMonth() || start.getDate() !== now.getDate()) {
    return `${MONTHS[start.getMonth()]}${two(start.getDate())}`;
  }
  return `${two(start.getHours())}:${two(start.getMinutes())}`;
}

/** Width of ps's UID/USER columns. */
export const USER_COLUMN_WIDTH = 8;

/**
 * How ps shows a user: the name, or the number when the uid has no name; a name wider
 * than the column is cut to width-1 characters plus "+" (procps >= 3.3.x do_pr_name).
 */
export function formatUser(name: string | undefined, uid: number, width = USER_COLUMN_WIDTH): string {
  if (name === undefined) return String(uid);
  if (name.length <= width) return name;
  const last = name.charCodeAt(width - 1);
  return last < 127 ? name.slice(0, width - 1) + '+' : String(uid);
}

/** Kernel dev_t encoding of /proc/<pid>/stat's tty_nr. */
export function ttyMajor(ttyNr: number): number {
  return (ttyNr >>> 8) & 0xfff;
}
export function ttyMinor(ttyNr: number): number {
  return (ttyNr & 0xff) | ((ttyNr >>> 12) & 0xfff00);
}

/**
 * The device path procps guesses from a terminal's major/minor (devname.c guess_name),
 * for the common terminals; undefined for the rest. ps then checks the path exists.
 */
export function guessTtyPath(major: number, minor: number): string | undefined {
  if (major === 4) return minor < 64 ? `/dev/tty${minor}` : `/dev/ttyS${minor - 64}`;
  if (major >= 136 && major <= 143) return `/dev/pts/${minor + (major - 136) * 256}`;
  const simple: Record<number, string> = {
    11: 'ttyB', 17: 'ttyH', 19: 'ttyC', 22: 'ttyD', 23: 'ttyD', 24: 'ttyE', 32: 'ttyX', 43: 'ttyI',
    46: 'ttyR', 48: 'ttyL', 57: 'ttyP', 71: 'ttyF', 75: 'ttyW', 78: 'ttyM', 105: 'ttyV', 112: 'ttyM',
    148: 'ttyT', 154: 'ttySR', 164: 'ttyCH', 166: 'ttyACM', 172: 'ttyMX', 174: 'ttySI', 188: 'ttyUSB',
    208: 'ttyU', 216: 'ttyUB', 224: 'ttyY',
  };
  const prefix = simple[major];
  if (prefix !== undefined) return `/dev/${prefix}${minor}`;
  if (major === 156) return `/dev/ttySR${minor + 256}`;
  return undefined;
}

/** TTY column text from a device path: "/dev/" dropped, non-printable characters as "?". */
export function ttyColumn(devicePath: string | undefined): string {
  if (devicePath === undefined) return '?';
  const name = devicePath.startsWith('/dev/') && devicePath.length > 5 ? devicePath.slice(5) : devicePath;
  return name.replace(/[\x00-\x20\x7f-\uffff]/g, '?');
}

/**
 * The CMD column (args): the command line with NULs as spaces and non-printable
 * characters as "?"; a process without a command line (kernel thread, zombie) shows
 * "[comm]", and a zombie gets " <defunct>" after it.
 */
export function formatCommand(cmdline: string, comm: string, state: string): string {
  // Control characters (C0, DEL, C1) and undecodable bytes (U+FFFD after UTF-8 decoding) print as "?".
  const printable = (s: string): string => s.replace(/[\x00-\x1f\x7f-\x9f\ufffd]/g, '?');
  const trimmed = cmdline.replace(/\0+$/, '');
  if (trimmed.length > 0) return printable(trimmed.replace(/[\0\n]/g, ' '));
  return `[${printable(comm)}]${state === 'Z' ? ' <defunct>' : ''}`;
}

// ---------------------------------------------------------------------------
// Layout

type Justify = 'left' | 'right';
interface ColumnSpec {
  width: number | 'pid';
  justify: Justify;
}

/** procps widths and alignment for the titles ps prints most (output.c format_array). */
const KNOWN_COLUMNS: Record<string, ColumnSpec> = {
  UID: { width: USER_COLUMN_WIDTH, justify: 'left' },
  USER: { width: USER_COLUMN_WIDTH, justify: 'left' },
  RUSER: { width: USER_COLUMN_WIDTH, justify: 'left' },
  PID: { width: 'pid', justify: 'right' },
  PPID: { width: 'pid', justify: 'right' },
  PGID: { width: 'pid', justify: 'right' },
  SID: { width: 'pid', justify: 'right' },
  SESS: { width: 'pid', justify: 'right' },
  TGID: { width: 'pid', justify: 'right' },
  TPGID: { width: 'pid', justify: 'right' },
  LWP: { width: 'pid', justify: 'right' },
  TID: { width: 'pid', justify: 'right' },
  SPID: { width: 'pid', justify: 'right' },
  NSPID: { width: 'pid', justify: 'right' }, // our tree's in-namespace pid
  C: { width: 2, justify: 'right' },
  '%CPU': { width: 4, justify: 'right' },
  '%MEM': { width: 4, justify: 'right' },
  NLWP: { width: 4, justify: 'right' },
  NI: { width: 3, justify: 'right' },
  PRI: { width: 3, justify: 'right' },
  RSS: { width: 5, justify: 'right' },
  VSZ: { width: 6, justify: 'right' },
  SZ: { width: 5, justify: 'right' },
  STIME: { width: 5, justify: 'left' },
  TTY: { width: 8, justify: 'left' },
  TIME: { width: 8, justify: 'right' },
  STAT: { width: 4, justify: 'left' },
  S: { width: 1, justify: 'left' },
  CMD: { width: 0, justify: 'left' },
  COMMAND: { width: 0, justify: 'left' },
};

export interface LayoutOptions {
  /** Width of the pid-like columns; ps uses the number of digits of pid_max. */
  pidWidth?: number;
}

/** The width ps gives pid columns: digits of this pid namespace's pid_max (at least 5 if unreadable). */
export function pidColumnWidthFor(pidMax: number | undefined): number {
  return pidMax === undefined || !Number.isFinite(pidMax) || pidMax <= 0 ? 5 : String(pidMax).length;
}

/**
 * Text like ps prints it. Known titles get procps's width and alignment; other
 * columns are as wide as their widest cell and right-aligned when all cells are
 * numbers. Overflowing cells push the rest of the line right and later columns
 * catch up, as procps's show_one_proc does, so `ps -ef` output re-prints byte for byte.
 */
export function layoutPsTable(table: PsTable, options: LayoutOptions = {}): string {
  const pidWidth = options.pidWidth ?? 5;
  const columns = table.titles.map((title, i) => {
    const known = KNOWN_COLUMNS[title];
    const cells = table.processes.map((row) => row[i] ?? '');
    if (known) {
      const base = known.width === 'pid' ? pidWidth : known.width;
      return { width: Math.max(base, title.length), justify: known.justify };
    }
    const numeric = cells.length > 0 && cells.every((c) => /^-?\d+(\.\d+)?$/.test(c));
    const width = Math.max(title.length, ...cells.map((c) => c.length));
    return { width, justify: (numeric ? 'right' : 'left') as Justify };
  });
  const line = (cells: readonly string[]): string => {
    let out = '';
    let correct = 0; // where this column should start
    let actual = 0; // where the text so far ends
    columns.forEach((column, i) => {
      const text = cells[i] ?? '';
      const leftPad = column.justify === 'right' ? Math.max(0, column.width - text.length) : 0;
      let space = correct - actual + leftPad;
      if (space < 1) space = i === 0 ? 0 : 1;
      out += ' '.repeat(space) + text;
      actual += space + text.length;
      correct += column.width + 1;
    });
    return out;
  };
  return [line(table.titles), ...table.processes.map(line)].join('\n') + '\n';
}
