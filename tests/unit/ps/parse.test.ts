import { describe, expect, it } from 'vitest';
import { PsError } from '../../../src/ps/errors.js';
import { columnStarts, parsePsOutput, validatePsArgs } from '../../../src/ps/parse.js';

const PS_EF = `UID        PID  PPID  C STIME TTY          TIME CMD
root         1     0  0 10:34 ?        00:00:01 /sbin/init splash
root       200     1  0 10:35 pts/0    00:00:00 sh -c for i in 1 2; do sleep 300 & done; wait
root       201   200  0 10:35 pts/0    00:00:00 sleep 300
root       202   200  0 10:35 pts/0    00:00:00 sleep 300
`;

// ps -ef -L: every thread row repeats its process's PID
const PS_L = `UID        PID  PPID   LWP  C NLWP STIME TTY          TIME CMD
root       300     1   300  0    3 10:34 ?        00:00:00 node server.js --port 80
root       300     1   301  0    3 10:34 ?        00:00:00 node server.js --port 80
root       300     1   302  0    3 10:34 ?        00:00:00 node server.js --port 80
root       400     1   400  0    1 10:34 ?        00:00:00 other
`;

// ps m -o pid,tid,args: thread rows show "-" as PID, under their process
const PS_M = `  PID   TID COMMAND
    1     - /process_api --addr 0.0.0.0:2024
    -     1 -
    -    59 -
  500     - other thing
    -   500 -
    -   501 -
    7     - seven
    -     7 -
`;

// moby's own example: a left-aligned first column whose cells contain spaces
const PS_CMD_FIRST = `CMD                          PPID   PID WCHAN          COMMAND
/bin/bash /st 28808             1 15468 wait           /bin/bash /st 28808
redis-server *:28808        15468 15497 ep_poll        redis-server *:28808
[kworker/u4:0]                  2 22787 worker_thread  [kworker/u4:0]
sleep 100000                    1 29383 hrtimer_nanosl sleep 100000
`;

describe('parsePsOutput', () => {
  it('keeps the header and only the rows of our pids; the command stays one cell', () => {
    const table = parsePsOutput(PS_EF, [200, 201, 202, 999]);
    expect(table.titles).toEqual(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    expect(table.processes).toEqual([
      ['root', '200', '1', '0', '10:35', 'pts/0', '00:00:00', 'sh -c for i in 1 2; do sleep 300 & done; wait'],
      ['root', '201', '200', '0', '10:35', 'pts/0', '00:00:00', 'sleep 300'],
      ['root', '202', '200', '0', '10:35', 'pts/0', '00:00:00', 'sleep 300'],
    ]);
  });

  it('keeps -L thread rows, which repeat the PID', () => {
    const table = parsePsOutput(PS_L, [300]);
    expect(table.processes.map((r) => [r[1], r[3], r[9]])).toEqual([
      ['300', '300', 'node server.js --port 80'],
      ['300', '301', 'node server.js --port 80'],
      ['300', '302', 'node server.js --port 80'],
    ]);
  });

  it('keeps m thread rows (PID "-") with the kept process above them, drops the others', () => {
    const table = parsePsOutput(PS_M, [1, 7]);
    expect(table.titles).toEqual(['PID', 'TID', 'COMMAND']);
    expect(table.processes).toEqual([
      ['1', '-', '/process_api --addr 0.0.0.0:2024'],
      ['-', '1', '-'],
      ['-', '59', '-'],
      ['7', '-', 'seven'],
      ['-', '7', '-'],
    ]);
  });

  it('finds column boundaries when an earlier column holds spaces (moby example)', () => {
    const table = parsePsOutput(PS_CMD_FIRST, [15468, 29383]);
    expect(table.processes).toEqual([
      ['/bin/bash /st 28808', '1', '15468', 'wait', '/bin/bash /st 28808'],
      ['sleep 100000', '1', '29383', 'hrtimer_nanosl', 'sleep 100000'],
    ]);
  });

  it('a number inside a command is not taken for a PID', () => {
    // "/bin/bash /st 28808": 28808 is not a pid of ours even though it looks like one
    const table = parsePsOutput(PS_CMD_FIRST, [28808]);
    expect(table.processes).toEqual([]);
  });

  it('starts each column at the first position left of its title that is blank on every line', () => {
    const lines = PS_EF.split('\n');
    expect(columnStarts(lines[0]!, lines.slice(1))).toEqual([0, 10, 15, 21, 23, 29, 38, 47]);
  });

  it('returns just the titles when none of the pids is there', () => {
    expect(parsePsOutput(PS_EF, [4242])).toEqual({
      titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
      processes: [],
    });
  });

  it('refuses output without a PID column', () => {
    const error = (() => {
      try {
        parsePsOutput('  TID COMMAND\n    1 init\n', [1]);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PsError);
    expect((error as PsError).reason).toBe('unparsable-output');
  });

  it('refuses a PID cell that is not a number', () => {
    expect(() => parsePsOutput('  PID CMD\n  abc init\n', [1])).toThrow(/unexpected pid "abc"/);
  });
});

describe('validatePsArgs (moby rule)', () => {
  const reasonOf = (args: string[]): string | undefined => {
    try {
      validatePsArgs(args);
      return undefined;
    } catch (e) {
      expect(e).toBeInstanceOf(PsError);
      return (e as PsError).reason;
    }
  };

  it('accepts ordinary options and pid=PID', () => {
    expect(reasonOf(['-ef'])).toBeUndefined();
    expect(reasonOf(['-o', 'pid,rss,args'])).toBeUndefined();
    expect(reasonOf(['-o', 'pid=PID,args'])).toBeUndefined();
    expect(reasonOf(['-opid=PID'])).toBeUndefined();
    expect(reasonOf(['aux'])).toBeUndefined();
    expect(reasonOf(['-L', '-o', 'pid,lwp,args'])).toBeUndefined();
  });

  it('refuses relabelling another column as PID', () => {
    expect(reasonOf(['-o', 'pid,ppid=PID'])).toBe('relabelled-pid');
    expect(reasonOf(['-o', 'ppid=PID'])).toBe('relabelled-pid');
    expect(reasonOf(['-o', 'ppid= PID'])).toBe('relabelled-pid');
    expect(reasonOf(['-o', 'user=PIDOWNER'])).toBe('relabelled-pid');
    expect(reasonOf(['-oppid=PID'])).toBe('relabelled-pid');
    expect(reasonOf(['ppid=PID'])).toBe('relabelled-pid');
    expect(reasonOf(['-e', '--format=ppid=PID'])).toBe('relabelled-pid');
  });

  it('names the offending spec in the message', () => {
    expect(() => validatePsArgs(['-o', 'pid,ppid=PID'])).toThrow('specifying "pid,ppid=PID" is not allowed');
  });

  it('refuses options that drop the header', () => {
    for (const opt of ['--no-headers', '--no-header', '--noheadings', '--no-heading']) {
      expect(reasonOf(['-ef', opt])).toBe('no-headers');
    }
  });
});

describe('overflowing cells', () => {
  // procps pushes the rest of a line right when a cell is wider than its column
  const OVERFLOW = `UID        PID  PPID  C STIME TTY          TIME CMD
root         1     0  0 10:34 ?        00:00:01 /sbin/init
root      3000     1  0 10:35 pts/12   12-01:02:03 sleep 300
`;
  it('keeps an overflowing word whole instead of splitting it across columns', () => {
    expect(parsePsOutput(OVERFLOW, [3000]).processes).toEqual([
      ['root', '3000', '1', '0', '10:35', 'pts/12', '12-01:02:03', 'sleep 300'],
    ]);
  });
});
