/**
 * The process tables of real processes, compared with the host's ps.
 * A shell with 10 children stands in for a container (the pids would come from its
 * cgroup); a process in a new pid namespace shows the in-namespace pid.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, comm } from '../../helpers/proc.js';
import {
  formatPsTable,
  formatTree,
  parsePsOutput,
  procTable,
  processTree,
  psTable,
  PsError,
  PS_EF_TITLES,
  top,
  toDockerTop,
  type PsTable,
} from '../../../src/ps/index.js';

const run = promisify(execFile);

interface Started {
  child: ChildProcess;
  exited: Promise<void>;
}

const started: Started[] = [];

function start(command: string, args: string[]): Started {
  const child = spawn(command, args, { detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const entry = { child, exited };
  started.push(entry);
  return entry;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));



/** Waits (bounded) until `pid` has `count` children that have exec'd `name`. */
async function waitForChildren(pid: number, count: number, name: string): Promise<number[]> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const kids = childrenOf(pid).filter((k) => comm(k) === name);
    if (kids.length === count) return kids.sort((a, b) => a - b);
    await sleep(20);
  }
  throw new Error(`pid ${pid} never had ${count} ${name} children (has ${childrenOf(pid).join(',')})`);
}

const byPid = (table: PsTable): Map<string, string[]> => {
  const pidIndex = table.titles.indexOf('PID');
  return new Map(table.processes.map((row) => [row[pidIndex]!, row]));
};

const seconds = (time: string): number => {
  const [days, hms] = time.includes('-') ? time.split('-') : ['0', time];
  const [h, m, s] = hms!.split(':').map(Number);
  return Number(days) * 86400 + h! * 3600 + m! * 60 + s!;
};

let shell: Started;
let shellPid: number;
let sleeperPids: number[];
let all: number[];
/** Processes we must kill ourselves for their parent (unshare) or us to reap them. */
const nsChildren: number[] = [];

beforeAll(async () => {
  shell = start('sh', ['-c', 'for i in $(seq 10); do sleep 300 & done; wait']);
  shellPid = shell.child.pid!;
  sleeperPids = await waitForChildren(shellPid, 10, 'sleep');
  all = [shellPid, ...sleeperPids];
});

afterAll(async () => {
  // Kill leaves first so their parents reap them (orphans would wait for a slow PID 1).
  const leaves = [...sleeperPids ?? [], ...nsChildren];
  for (const pid of leaves) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const { child, exited } of started) {
    const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  }
});

describe('a shell with 10 children', () => {
  it('procTable shows exactly those 11 processes with their parent links', () => {
    const table = procTable(all);
    expect(table.titles).toEqual(PS_EF_TITLES);
    const rows = byPid(table);
    expect([...rows.keys()].map(Number).sort((a, b) => a - b)).toEqual([...all].sort((a, b) => a - b));
    expect(rows.get(String(shellPid))![2]).toBe(String(process.pid));
    for (const pid of sleeperPids) {
      expect(rows.get(String(pid))![2]).toBe(String(shellPid));
      expect(rows.get(String(pid))![7]).toBe('sleep 300');
    }
    // the shell's command line has spaces and stays one cell
    expect(rows.get(String(shellPid))![7]).toBe('sh -c for i in $(seq 10); do sleep 300 & done; wait');
  });

  it('psTable (host ps -ef) shows exactly those 11 processes with their parent links', async () => {
    const table = await psTable(all);
    expect(table.titles).toEqual(PS_EF_TITLES);
    const rows = byPid(table);
    expect([...rows.keys()].map(Number).sort((a, b) => a - b)).toEqual([...all].sort((a, b) => a - b));
    for (const pid of sleeperPids) expect(rows.get(String(pid))![2]).toBe(String(shellPid));
    expect(rows.get(String(shellPid))![7]).toBe('sh -c for i in $(seq 10); do sleep 300 & done; wait');
  });

  it("procTable's rows equal `ps -ef`'s rows field by field", async () => {
    const { stdout } = await run('ps', ['-ef']);
    const fromProc = procTable(all);
    const fromPs = parsePsOutput(stdout, all);
    expect(fromProc.titles).toEqual(fromPs.titles);
    expect(fromProc.processes).toHaveLength(11);
    const psRows = byPid(fromPs);
    for (const row of fromProc.processes) {
      const psRow = psRows.get(row[1]!)!;
      const [uid, pid, ppid, c, stime, tty, time, cmd] = row;
      // Exactly equal: everything that does not move while the process lives.
      expect({ uid, pid, ppid, stime, tty, cmd }).toEqual({
        uid: psRow[0],
        pid: psRow[1],
        ppid: psRow[2],
        stime: psRow[4],
        tty: psRow[5],
        cmd: psRow[7],
      });
      // C is cputime/elapsed truncated and TIME is whole seconds of cputime: read a few
      // milliseconds apart, a process can cross a tick boundary in between (one more
      // percent or second), so these may differ by one unit, never more.
      expect(Math.abs(Number(c) - Number(psRow[3]))).toBeLessThanOrEqual(1);
      expect(Math.abs(seconds(time!) - seconds(psRow[6]!))).toBeLessThanOrEqual(1);
    }
  });

  it('formats a table exactly as ps prints it', async () => {
    const { stdout } = await run('ps', ['-ef', `-q${all.join(',')}`]);
    expect(formatPsTable(parsePsOutput(stdout, all))).toBe(stdout);
  });

  it('top() with no options reads /proc and with options runs ps', async () => {
    const fromProc = await top(all);
    expect(fromProc.titles).toEqual(PS_EF_TITLES);
    expect(fromProc.processes).toHaveLength(11);
    const custom = await top(all, ['-o', 'pid,ppid,args']);
    expect(custom.titles).toEqual(['PID', 'PPID', 'COMMAND']);
    expect(custom.processes).toHaveLength(11);
  });

  it('-o pid,rss,args works', async () => {
    const table = await psTable(all, ['-o', 'pid,rss,args']);
    expect(table.titles).toEqual(['PID', 'RSS', 'COMMAND']);
    expect(table.processes.map((r) => Number(r[0])).sort((a, b) => a - b)).toEqual([...all].sort((a, b) => a - b));
    for (const [, rss] of table.processes) expect(Number(rss)).toBeGreaterThan(0);
    expect(byPid(table).get(String(shellPid))![2]).toBe('sh -c for i in $(seq 10); do sleep 300 & done; wait');
    expect(toDockerTop(table)).toEqual({ Titles: table.titles, Processes: table.processes });
  });

  it('refuses an -o that relabels another column as PID, before running ps', async () => {
    const error = await psTable(all, ['-o', 'pid,ppid=PID']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PsError);
    expect((error as PsError).reason).toBe('relabelled-pid');
    await expect(top(all, ['-o', 'ppid=PID,args'])).rejects.toThrow(/not allowed/);
  });

  it('reports ps failing on a bad option', async () => {
    const error = await psTable(all, ['--no-such-option']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PsError);
    expect((error as PsError).reason).toBe('ps-failed');
  });

  it('falls back to filtering all processes when ps refuses -q (forest f)', async () => {
    const table = await psTable(all, ['f', '-e', '-o', 'pid,ppid,args']);
    expect(table.processes.map((r) => Number(r[0])).sort((a, b) => a - b)).toEqual([...all].sort((a, b) => a - b));
  });

  it('leaves out processes that no longer exist', async () => {
    const gone = 99_999_999; // above any pid_max: never a process
    expect(procTable([...all, gone]).processes).toHaveLength(11);
    expect((await psTable([...all, gone])).processes).toHaveLength(11);
    expect(processTree([...all, gone]).flatMap((r) => [r, ...r.children])).toHaveLength(11);
  });

  it('the tree has the shell at the root with its 10 children', () => {
    const roots = processTree(all);
    expect(roots).toHaveLength(1);
    const [root] = roots;
    expect(root!.pid).toBe(shellPid);
    expect(root!.ppid).toBe(process.pid);
    expect(root!.command).toBe('sh -c for i in $(seq 10); do sleep 300 & done; wait');
    expect(root!.children.map((c) => c.pid)).toEqual(sleeperPids);
    for (const child of root!.children) {
      expect(child.ppid).toBe(shellPid);
      expect(child.user).toBe('root');
      expect(['S', 'R']).toContain(child.state);
      expect(child.children).toEqual([]);
    }
    const lines = formatTree(roots).trimEnd().split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^\s*PID\s+NSPID\s+USER\s+S\s+COMMAND$/);
    expect(lines[1]).toContain(`${shellPid} `);
    expect(lines[1]).toMatch(/ sh -c for i in/);
    for (const line of lines.slice(2)) expect(line).toMatch(/ \\_ sleep 300$/);
  });
});

describe('a process that has used CPU', () => {
  it('has the same C and TIME in procTable and ps (within one unit)', async () => {
    // Burns 1.2 s of CPU time (not wall time, so a busy host does not change it), then idles.
    const burner = start(process.execPath, [
      '-e',
      'for (let u = process.cpuUsage(); u.user + u.system < 1.2e6; u = process.cpuUsage()); process.title = "burnt"; setInterval(() => {}, 1e6);',
    ]);
    const pid = burner.child.pid!;
    nsChildren.push(pid);
    for (let i = 0; i < 3000 && comm(pid) !== 'burnt'; i++) await sleep(20);
    expect(comm(pid)).toBe('burnt');

    // C is CPU time over elapsed time: while the burner idles it falls (by tens a second this early),
    // so ps's C must lie between /proc's read just before and just after ps ran.
    const fromProc = byPid(procTable([pid])).get(String(pid))!;
    const fromPs = byPid(await psTable([pid])).get(String(pid))!;
    const fromProcAfter = byPid(procTable([pid])).get(String(pid))!;
    expect(seconds(fromProc[6]!)).toBeGreaterThanOrEqual(1);
    expect(Number(fromProc[3])).toBeGreaterThan(0);
    expect(Number(fromPs[3])).toBeLessThanOrEqual(Number(fromProc[3]) + 1);
    expect(Number(fromPs[3])).toBeGreaterThanOrEqual(Number(fromProcAfter[3]) - 1);
    expect(Math.abs(seconds(fromProc[6]!) - seconds(fromPs[6]!))).toBeLessThanOrEqual(1);
    expect(fromProc[7]).toBe(fromPs[7]);
  });
});

describe('a host without ps', () => {
  it('serves the default columns from /proc and says clearly that options need ps', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent-husk-test';
    try {
      expect((await top(all)).processes).toHaveLength(11);
      const error = await top(all, ['-o', 'pid,rss,args']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PsError);
      expect((error as PsError).reason).toBe('ps-missing');
      expect((error as PsError).message).toMatch(/no ps command/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('threads', () => {
  // This test process itself (Node) is multithreaded.
  it('keeps -L thread rows with their process', async () => {
    const table = await psTable([process.pid], ['-L', '-o', 'pid,lwp,args']);
    expect(table.titles).toEqual(['PID', 'LWP', 'COMMAND']);
    expect(table.processes.length).toBeGreaterThan(1);
    expect(table.processes.every((r) => r[0] === String(process.pid))).toBe(true);
    expect(table.processes.map((r) => r[1])).toContain(String(process.pid));
  });

  it('keeps m thread rows ("-" as PID) under their process', async () => {
    const table = await psTable([process.pid, shellPid], ['m', '-o', 'pid,tid,args']);
    expect(table.titles).toEqual(['PID', 'TID', 'COMMAND']);
    const nodeRow = table.processes.findIndex((r) => r[0] === String(process.pid));
    expect(nodeRow).toBeGreaterThanOrEqual(0);
    const threadRows: string[][] = [];
    for (const row of table.processes.slice(nodeRow + 1)) {
      if (row[0] !== '-') break;
      threadRows.push(row);
    }
    expect(threadRows.length).toBeGreaterThan(1);
    expect(threadRows.map((r) => r[1])).toContain(String(process.pid));
  });
});

describe('a process in its own pid namespace', () => {
  it('shows its in-namespace pid next to its host pid', async () => {
    const unshare = start('unshare', ['--fork', '--pid', '--mount-proc', 'sleep', '300']);
    const unsharePid = unshare.child.pid!;
    const [inner] = await waitForChildren(unsharePid, 1, 'sleep');
    nsChildren.push(inner!);

    const roots = processTree([unsharePid, inner!]);
    expect(roots).toHaveLength(1);
    expect(roots[0]!.pid).toBe(unsharePid);
    expect(roots[0]!.nsPid).toBe(unsharePid);
    const [child] = roots[0]!.children;
    expect(child!.pid).toBe(inner);
    expect(child!.nsPid).toBe(1);
    expect(child!.pid).not.toBe(1);

    const text = formatTree(roots);
    expect(text).toMatch(new RegExp(`^\\s*${inner}\\s+1\\s+root\\s+\\S\\s+ \\\\_ sleep 300$`, 'm'));
  });
});

describe('users', () => {
  it('shows long user names cut as ps does, and unnamed uids as numbers', async () => {
    const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'));
    const long = passwd.find((f) => (f[0] ?? '').length > 8 && /^\d+$/.test(f[2] ?? ''));
    if (!long) throw new Error('this test needs an /etc/passwd user with a name longer than 8 characters');
    const longUid = Number(long[2]);
    const taken = new Set(passwd.map((f) => f[2]));
    let freeUid = 54321;
    while (taken.has(String(freeUid))) freeUid++;

    const named = start('setpriv', [`--reuid=${longUid}`, `--regid=${longUid}`, '--clear-groups', 'sleep', '300']);
    const unnamed = start('setpriv', [`--reuid=${freeUid}`, `--regid=${freeUid}`, '--clear-groups', 'sleep', '300']);
    const pids = [named.child.pid!, unnamed.child.pid!];
    for (let i = 0; i < 500 && !pids.every((p) => comm(p) === 'sleep'); i++) await sleep(20);
    nsChildren.push(...pids);

    const rows = byPid(procTable(pids));
    expect(rows.get(String(pids[0]))![0]).toBe(long[0]!.slice(0, 7) + '+');
    expect(rows.get(String(pids[1]))![0]).toBe(String(freeUid));
    const psRows = byPid(await psTable(pids));
    for (const pid of pids) expect(rows.get(String(pid))![0]).toBe(psRows.get(String(pid))![0]);
  });
});
