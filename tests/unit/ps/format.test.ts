import { describe, expect, it } from 'vitest';
import {
  cpuPercent,
  formatCommand,
  formatCpuTime,
  formatStartTime,
  formatUser,
  guessTtyPath,
  layoutPsTable,
  pidColumnWidthFor,
  ttyColumn,
  ttyMajor,
  ttyMinor,
} from '../../../src/ps/format.js';
import { parsePsOutput } from '../../../src/ps/parse.js';
import { parseStat, parseStatus } from '../../../src/ps/proc.js';
import { isDefaultListing, toDockerTop } from '../../../src/ps/index.js';

const epoch = (...args: [number, number, number, number, number]): number => new Date(...args).getTime() / 1000;

describe('C column (cpuPercent)', () => {
  it('is cpu ticks over elapsed ticks in percent, truncated', () => {
    expect(cpuPercent(50, 1000, 1100)).toBe(50);
    expect(cpuPercent(2, 0, 3)).toBe(66);
    expect(cpuPercent(1, 0, 300)).toBe(0);
  });
  it('is capped at 99', () => {
    expect(cpuPercent(500, 0, 100)).toBe(99);
    expect(cpuPercent(100, 0, 100)).toBe(99);
  });
  it('is 0 when no time has elapsed', () => {
    expect(cpuPercent(5, 100, 100)).toBe(0);
    expect(cpuPercent(5, 100, 90)).toBe(0);
  });
});

describe('TIME column (formatCpuTime)', () => {
  it('prints whole seconds of utime+stime as HH:MM:SS', () => {
    expect(formatCpuTime(0)).toBe('00:00:00');
    expect(formatCpuTime(199)).toBe('00:00:01');
    expect(formatCpuTime(6100)).toBe('00:01:01');
    expect(formatCpuTime(100 * (23 * 3600 + 59 * 60 + 59))).toBe('23:59:59');
  });
  it('adds days as DD-', () => {
    expect(formatCpuTime(100 * (2 * 86400 + 3661))).toBe('2-01:01:01');
  });
  it('honours another tick rate', () => {
    expect(formatCpuTime(2048, 1024)).toBe('00:00:02');
  });
});

describe('STIME column (formatStartTime)', () => {
  const now = epoch(2026, 10, 22, 23, 0);
  it('is HH:MM for a process started today', () => {
    expect(formatStartTime(epoch(2026, 10, 22, 9, 5), now)).toBe('09:05');
    expect(formatStartTime(epoch(2026, 10, 22, 0, 0), now)).toBe('00:00');
  });
  it('is MonDD for an earlier day this year, even less than 24 hours ago', () => {
    expect(formatStartTime(epoch(2026, 1, 3, 12, 0), now)).toBe('Feb03');
    expect(formatStartTime(epoch(2026, 10, 21, 23, 59), epoch(2026, 10, 22, 0, 1))).toBe('Nov21');
  });
  it('is the year for an earlier year', () => {
    expect(formatStartTime(epoch(2025, 11, 31, 23, 59), epoch(2026, 0, 1, 0, 1))).toBe('2025');
  });
});

describe('UID column (formatUser)', () => {
  it('shows the name when it fits in 8 characters', () => {
    expect(formatUser('root', 0)).toBe('root');
    expect(formatUser('abcdefgh', 5)).toBe('abcdefgh');
  });
  it('cuts longer names to 7 characters and "+"', () => {
    expect(formatUser('systemd-timesync', 997)).toBe('systemd+');
  });
  it('shows the number for a uid without a name', () => {
    expect(formatUser(undefined, 54321)).toBe('54321');
  });
  it('shows the number when the cut would split a non-ASCII character', () => {
    expect(formatUser('abcdefgé-long', 1001)).toBe('1001');
  });
});

describe('TTY column', () => {
  it('decodes tty_nr into major and minor', () => {
    expect([ttyMajor(34819), ttyMinor(34819)]).toEqual([136, 3]);
    const pts300 = (136 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12);
    expect([ttyMajor(pts300), ttyMinor(pts300)]).toEqual([136, 300]);
  });
  it('guesses device paths as procps does', () => {
    expect(guessTtyPath(136, 3)).toBe('/dev/pts/3');
    expect(guessTtyPath(137, 4)).toBe('/dev/pts/260');
    expect(guessTtyPath(4, 1)).toBe('/dev/tty1');
    expect(guessTtyPath(4, 64)).toBe('/dev/ttyS0');
    expect(guessTtyPath(188, 0)).toBe('/dev/ttyUSB0');
    expect(guessTtyPath(1, 3)).toBeUndefined();
  });
  it('drops /dev/ and shows "?" without a terminal', () => {
    expect(ttyColumn('/dev/pts/3')).toBe('pts/3');
    expect(ttyColumn('/dev/tty1')).toBe('tty1');
    expect(ttyColumn(undefined)).toBe('?');
  });
});

describe('CMD column (formatCommand)', () => {
  it('joins the arguments with spaces', () => {
    expect(formatCommand('sh\0-c\0for i in 1; do sleep 1; done\0', 'sh', 'S')).toBe('sh -c for i in 1; do sleep 1; done');
    expect(formatCommand('a\nb\0', 'x', 'S')).toBe('a b');
  });
  it('shows control characters as "?"', () => {
    expect(formatCommand('a\tb\x1b\0', 'x', 'S')).toBe('a?b?');
  });
  it('shows [comm] without a command line, and <defunct> for zombies', () => {
    expect(formatCommand('', 'kthreadd', 'S')).toBe('[kthreadd]');
    expect(formatCommand('', 'sleep', 'Z')).toBe('[sleep] <defunct>');
  });
});

describe('/proc parsing', () => {
  it('reads stat fields after the last ")" (comm may hold spaces and parentheses)', () => {
    const fields = ['S', '1', '42', '42', '34819', '42', '4194304', '1', '0', '0', '0', '7', '5', '0', '0', '20', '0', '1', '0', '123456'];
    const stat = parseStat(`42 (we) (ird name) ${fields.join(' ')} 9999 0 0\n`);
    expect(stat).toEqual({ pid: 42, comm: 'we) (ird name', state: 'S', ppid: 1, ttyNr: 34819, cpuTicks: 12, startTicks: 123456 });
  });
  it('reads the effective uid and the innermost NSpid from status', () => {
    expect(parseStatus('Name:\tsleep\nUid:\t1000\t1001\t1001\t1001\nNSpid:\t5123\t17\t1\n')).toEqual({ euid: 1001, nsPid: 1 });
    expect(parseStatus('Uid:\t0\t0\t0\t0\n')).toEqual({ euid: 0, nsPid: null });
  });
});

describe('layoutPsTable', () => {
  const PS_EF = `UID        PID  PPID  C STIME TTY          TIME CMD
root         1     0  0 10:34 ?        00:00:01 /sbin/init splash
root       200     1  0 10:35 pts/0    00:00:00 sh -c for i in 1 2; do sleep 300 & done; wait
systemd+ 31000   200 99 Nov21 pts/12   1-02:03:04 sleep 300
`;
  it('re-prints ps -ef output byte for byte', () => {
    expect(layoutPsTable(parsePsOutput(PS_EF, [1, 200, 31000]), { pidWidth: 5 })).toBe(PS_EF);
  });
  it('widens pid columns to the digits of pid_max', () => {
    const text = layoutPsTable({ titles: ['PID', 'PPID', 'CMD'], processes: [['1', '0', 'init']] }, { pidWidth: 7 });
    expect(text).toBe('    PID    PPID CMD\n      1       0 init\n');
    expect(pidColumnWidthFor(4194304)).toBe(7);
    expect(pidColumnWidthFor(32768)).toBe(5);
    expect(pidColumnWidthFor(undefined)).toBe(5);
  });
  it('lets an overflowing cell push right and the next columns catch up, as procps does', () => {
    const text = layoutPsTable({ titles: ['UID', 'PID', 'PPID'], processes: [['abcdefghij', '1', '0']] }, { pidWidth: 5 });
    expect(text).toBe('UID        PID  PPID\nabcdefghij   1     0\n');
  });
  it('sizes unknown columns by content and right-aligns numeric ones', () => {
    const text = layoutPsTable({ titles: ['PID', 'X', 'NAME'], processes: [['1', '1234', 'a'], ['22', '5', 'bb']] }, { pidWidth: 5 });
    expect(text).toBe('  PID    X NAME\n    1 1234 a\n   22    5 bb\n');
  });
});

describe('shapes', () => {
  it('toDockerTop gives the Engine API body', () => {
    const table = { titles: ['PID', 'CMD'], processes: [['1', 'sleep 300']] };
    expect(toDockerTop(table)).toEqual({ Titles: ['PID', 'CMD'], Processes: [['1', 'sleep 300']] });
  });
  it('isDefaultListing recognises the ps -ef spellings only', () => {
    for (const args of [[], ['-ef'], ['-fe'], ['-e', '-f'], ['-f']]) expect(isDefaultListing(args)).toBe(true);
    for (const args of [['-o', 'pid'], ['aux'], ['-efL'], ['-ef', 'm']]) expect(isDefaultListing(args)).toBe(false);
  });
});
