/**
 * husk ps / husk top and containerTop on real containers: pids from the container's
 * cgroup, rows compared with the host's ps, the tree with NSpid, runc's and docker's
 * json shapes, and the errors for a stopped or unknown container.
 *
 * Containers are started with the built CLI (`npm run build` first), under a private
 * --root, their cgroups beneath this test's own (--cgroup-parent self).
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containerProcessTree,
  containerTop,
  parsePsOutput,
  PS_EF_TITLES,
  PsError,
  type PsTable,
  type TreeNode,
} from '../../src/ps/index.js';
import { containerCgroup, containerProcesses, containerState, deleteContainer, type RuntimeOptions } from '../../src/runtime/container.js';
import { ContainerError } from '../../src/runtime/errors.js';
import { cgroupDirsNamed, cliPath, makeHusk, testCgroupParent, type Husk } from '../helpers/husk.js';
import { makeHostToolsBundle, makeTestBundle, type TestBundle } from '../helpers/rootfs.js';
import { childrenOf, comm } from '../helpers/proc.js';

const execPs = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SHELL_SCRIPT = 'for i in $(seq 10); do sleep 300 & done; wait';
const SHELL_CMD = `/bin/sh -c ${SHELL_SCRIPT}`;
const SPAWN_CMD = '/bin/testinit spawn 10 300';

let husk: Husk;
let rt: RuntimeOptions;
let logDir: string;
const bundles: TestBundle[] = [];
/** Every container id this file made, and every pid they had (checked gone at the end). */
const ids: string[] = [];
const seenPids = new Set<number>();

/** Unique per test process: the cgroup parent ("self") is shared with other test files. */
const idOf = (name: string): string => `ps-${process.pid}-${name}`;

interface Running {
  id: string;
  initPid: number;
  childPids: number[];
  all: number[];
  /** The container's stdout (testinit prints "child <pid>" with the in-container pids). */
  outPath: string;
}

const numeric = (a: number, b: number): number => a - b;



/** The last NSpid field of /proc/<pid>/status, read here independently of src/ps. */
function nsPidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('NSpid:'))!;
  return Number(line.trim().split(/\s+/).at(-1));
}

function ppidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/**
 * Runs a verb that leaves a container behind (create, run -d). The container inherits
 * husk's stdio, so they are plain files handed over as fds: a pipe (execa's `{ file }`
 * included, it pipes through) would stay open, and the call pending, for the container's life.
 * Same command line as husk.run.
 */
async function runDetached(args: string[], outPath: string): Promise<{ exitCode: number | null; stderr: string }> {
  const errPath = `${outPath}.err`;
  const out = openSync(outPath, 'w');
  const err = openSync(errPath, 'w');
  try {
    const child = spawn(process.execPath, [cliPath, '--root', husk.root, '--cgroup-parent', testCgroupParent, ...args], {
      stdio: ['ignore', out, err],
    });
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => resolve(code));
    });
    return { exitCode, stderr: readFileSync(errPath, 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

/** Starts a container with `husk run -d` and waits (bounded) until its init has 10 children named `childComm`. */
async function startContainer(name: string, bundle: TestBundle, childComm: string): Promise<Running> {
  const id = idOf(name);
  ids.push(id);
  const outPath = join(logDir, `${name}.out`);
  const result = await runDetached(['run', '-d', '-b', bundle.dir, id], outPath);
  expect(result.exitCode, result.stderr).toBe(0);
  const initPid = containerState(rt, id).pid!;
  for (let attempt = 0; attempt < 500; attempt++) {
    const children = childrenOf(initPid).filter((pid) => comm(pid) === childComm);
    if (children.length === 10 && childrenOf(initPid).length === 10) {
      const all = [initPid, ...children].sort(numeric);
      all.forEach((pid) => seenPids.add(pid));
      return { id, initPid, childPids: children, all, outPath };
    }
    await sleep(20);
  }
  throw new Error(`container ${id}: init ${initPid} never had 10 ${childComm} children (has ${childrenOf(initPid).join(',')})`);
}

const rowsByPid = (table: PsTable): Map<number, string[]> => {
  const pidIndex = table.titles.indexOf('PID');
  return new Map(table.processes.map((row) => [Number(row[pidIndex]), row]));
};

const seconds = (time: string): number => {
  const [days, hms] = time.includes('-') ? time.split('-') : ['0', time];
  const [h, m, s] = hms!.split(':').map(Number);
  return Number(days) * 86400 + h! * 3600 + m! * 60 + s!;
};

/** A ps -ef table equals the host's `ps -ef` rows for the same pids (C and TIME within one unit, as they can tick in between). */
async function expectSameAsPsEf(table: PsTable, pids: number[]): Promise<void> {
  const { stdout } = await execPs('ps', ['-ef']);
  const fromPs = parsePsOutput(stdout, pids);
  expect(table.titles).toEqual(fromPs.titles);
  expect(table.processes).toHaveLength(pids.length);
  expect(fromPs.processes).toHaveLength(pids.length);
  const psRows = rowsByPid(fromPs);
  for (const row of table.processes) {
    const [uid, pid, ppid, c, stime, tty, time, cmd] = row;
    const psRow = psRows.get(Number(pid))!;
    expect({ uid, pid, ppid, stime, tty, cmd }).toEqual({
      uid: psRow[0],
      pid: psRow[1],
      ppid: psRow[2],
      stime: psRow[4],
      tty: psRow[5],
      cmd: psRow[7],
    });
    expect(Math.abs(Number(c) - Number(psRow[3]))).toBeLessThanOrEqual(1);
    expect(Math.abs(seconds(time!) - seconds(psRow[6]!))).toBeLessThanOrEqual(1);
  }
}

/** Exactly the container's 11 processes, the 10 children linked to the init, the init's parent outside. */
function expectElevenWithParents(table: PsTable, c: Running, command: string): void {
  const rows = rowsByPid(table);
  expect([...rows.keys()].sort(numeric)).toEqual(c.all);
  const ppidIndex = table.titles.indexOf('PPID');
  const cmdIndex = table.titles.length - 1;
  expect(Number(rows.get(c.initPid)![ppidIndex])).toBe(ppidOf(c.initPid));
  expect(c.all).not.toContain(ppidOf(c.initPid));
  for (const pid of c.childPids) {
    expect(Number(rows.get(pid)![ppidIndex])).toBe(c.initPid);
  }
  expect(rows.get(c.initPid)![cmdIndex]).toBe(command);
}

let spawner: Running;
let shell: Running;

beforeAll(async () => {
  expect(process.getuid?.(), 'these tests run containers: they need root').toBe(0);
  husk = makeHusk();
  for (const verb of ['ps', 'top']) {
    const help = await husk.run([verb, '--help']);
    if (help.exitCode !== 0) throw new Error(`${cliPath} has no ${verb} verb (${String(help.stderr)}): run \`npm run build\` first`);
  }
  rt = { root: husk.root, cgroupParent: testCgroupParent };
  logDir = mkdtempSync(join(tmpdir(), 'husk-ps-logs-'));
  const spawnBundle = await makeTestBundle({ args: ['spawn', '10', '300'] });
  bundles.push(spawnBundle);
  const shellBundle = await makeHostToolsBundle({ args: ['/bin/sh', '-c', SHELL_SCRIPT] });
  bundles.push(shellBundle);
  spawner = await startContainer('spawner', spawnBundle, 'testinit');
  shell = await startContainer('shell', shellBundle, 'sleep');
});

afterAll(async () => {
  const errors: unknown[] = [];
  for (const id of ids) {
    await deleteContainer(rt, id, true).catch((error: unknown) => errors.push(error));
  }
  const leftStates = husk ? readdirSync(husk.root) : [];
  const leftCgroups = ids.flatMap((id) => cgroupDirsNamed(id));
  const leftProcesses = [...seenPids].filter(alive);
  await husk?.cleanup();
  for (const bundle of bundles) await bundle.cleanup().catch((error: unknown) => errors.push(error));
  if (logDir) rmSync(logDir, { recursive: true, force: true });
  expect(errors).toEqual([]);
  expect(leftStates).toEqual([]);
  expect(leftCgroups).toEqual([]);
  expect(leftProcesses).toEqual([]);
});

describe('husk ps (CLI)', () => {
  it('--format json prints the cgroup pid array as runc does: exactly the 11 processes', async () => {
    for (const c of [spawner, shell]) {
      const result = await husk.run(['ps', '--format', 'json', c.id]);
      expect(result.exitCode, String(result.stderr)).toBe(0);
      // Go's json.Encoder: compact, one line
      expect(result.stdout).toMatch(/^\[\d+(,\d+)*\]$/);
      expect((JSON.parse(String(result.stdout)) as number[]).sort(numeric)).toEqual(c.all);
      expect(containerProcesses(rt, c.id).pids.sort(numeric)).toEqual(c.all);
      // the cgroups afterAll checks for removal exist now (that check is not vacuous)
      expect(cgroupDirsNamed(c.id).length).toBeGreaterThan(0);
    }
    const short = await husk.run(['ps', '-f', 'json', spawner.id]);
    expect(JSON.parse(String(short.stdout))).toEqual(JSON.parse(String((await husk.run(['ps', '--format', 'json', spawner.id])).stdout)));
  });

  it("with no options prints ps -ef's header and rows for exactly the container's processes", async () => {
    for (const [c, command] of [[spawner, SPAWN_CMD], [shell, SHELL_CMD]] as const) {
      const result = await husk.run(['ps', c.id]);
      expect(result.exitCode, String(result.stderr)).toBe(0);
      const stdout = String(result.stdout) + '\n';
      const table = parsePsOutput(stdout, c.all);
      expect(table.titles).toEqual(PS_EF_TITLES);
      // every line is the header or one of ours: nothing else of the host
      expect(stdout.trimEnd().split('\n')).toHaveLength(12);
      expectElevenWithParents(table, c, command);
      await expectSameAsPsEf(table, c.all);
      // the header line is ps's own, byte for byte
      const { stdout: psOut } = await execPs('ps', ['-ef', `-q${c.all.join(',')}`]);
      expect(stdout.split('\n')[0]).toBe(psOut.split('\n')[0]);
    }
  });

  it('passes -o pid,rss,args to ps', async () => {
    const result = await husk.run(['ps', shell.id, '-o', 'pid,rss,args']);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const lines = String(result.stdout).split('\n');
    expect(lines[0]).toMatch(/^\s*PID\s+RSS COMMAND$/);
    const table = parsePsOutput(String(result.stdout), shell.all);
    expect(table.titles).toEqual(['PID', 'RSS', 'COMMAND']);
    expect(lines).toHaveLength(12);
    const rows = rowsByPid(table);
    expect([...rows.keys()].sort(numeric)).toEqual(shell.all);
    for (const [, rss] of table.processes) expect(Number(rss)).toBeGreaterThan(0);
    expect(rows.get(shell.initPid)![2]).toBe(SHELL_CMD);
    for (const pid of shell.childPids) expect(rows.get(pid)![2]).toBe('sleep 300');
  });

  it('refuses an -o that relabels another column as PID, and a header-less listing', async () => {
    const relabel = await husk.run(['ps', spawner.id, '-o', 'pid,ppid=PID']);
    expect(relabel.exitCode).toBe(1);
    expect(relabel.stdout).toBe('');
    expect(relabel.stderr).toMatch(/ppid=PID.*not allowed/);
    const noHeaders = await husk.run(['ps', spawner.id, '-e', '--no-headers']);
    expect(noHeaders.exitCode).toBe(1);
    expect(noHeaders.stderr).toMatch(/--no-headers is not allowed/);
  });

  it('--tree shows the init (pid 1 inside) at the root and each in-container pid next to the host pid', async () => {
    const result = await husk.run(['ps', '--tree', spawner.id]);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const lines = String(result.stdout).split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^\s*PID\s+NSPID\s+USER\s+S\s+COMMAND$/);
    const fields = lines.slice(1).map((line) => line.trim().split(/\s+/));
    expect(fields[0]!.slice(0, 3)).toEqual([String(spawner.initPid), '1', 'root']);
    expect(lines[1]).toMatch(new RegExp(` ${SPAWN_CMD}$`));
    const printedByInit = readFileSync(spawner.outPath, 'utf8').trim().split('\n').map((l) => Number(l.replace('child ', '')));
    for (const [i, line] of lines.slice(2).entries()) {
      const [hostPid, nsPid] = fields[i + 1]!.map(Number);
      expect(spawner.childPids).toContain(hostPid);
      expect(nsPid).toBe(nsPidOf(hostPid!));
      expect(line).toMatch(new RegExp(` \\\\_ ${SPAWN_CMD}$`));
    }
    // the in-container pids are the ones testinit itself saw fork() return
    expect(fields.slice(1).map((f) => Number(f[1])).sort(numeric)).toEqual(printedByInit.sort(numeric));
  });

  it('--tree --format json gives the tree as data', async () => {
    const result = await husk.run(['ps', '--tree', '-f', 'json', shell.id]);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const roots = JSON.parse(String(result.stdout)) as TreeNode[];
    expect(roots).toHaveLength(1);
    expect(roots[0]).toMatchObject({ pid: shell.initPid, nsPid: 1, user: 'root', command: SHELL_CMD });
    expect(roots[0]!.children.map((c) => c.pid)).toEqual(shell.childPids);
  });

  it('refuses ps options with --tree and an unknown --format', async () => {
    const tree = await husk.run(['ps', '--tree', spawner.id, '-o', 'pid']);
    expect(tree.exitCode).toBe(2);
    expect(tree.stderr).toMatch(/--tree takes no ps options/);
    const format = await husk.run(['ps', '--format', 'yaml', spawner.id]);
    expect(format.exitCode).toBe(2);
    expect(format.stderr).toMatch(/--format must be table or json/);
  });
});

describe('husk top (CLI)', () => {
  it('--format json gives the Docker Engine API body: Titles and Processes, a command with spaces in one cell', async () => {
    const result = await husk.run(['top', '--format', 'json', shell.id]);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stdout)).not.toContain('\n');
    const body = JSON.parse(String(result.stdout)) as { Titles: string[]; Processes: string[][] };
    expect(Object.keys(body)).toEqual(['Titles', 'Processes']);
    expect(body.Titles).toEqual(PS_EF_TITLES);
    expect(body.Processes).toHaveLength(11);
    for (const row of body.Processes) {
      expect(row).toHaveLength(8);
      for (const cell of row) expect(typeof cell).toBe('string');
    }
    expectElevenWithParents({ titles: body.Titles, processes: body.Processes }, shell, SHELL_CMD);
  });

  it('passes ps options, and refuses a relabelling -o', async () => {
    const result = await husk.run(['top', '-f', 'json', spawner.id, '-o', 'pid,ppid,args']);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const body = JSON.parse(String(result.stdout)) as { Titles: string[]; Processes: string[][] };
    expect(body.Titles).toEqual(['PID', 'PPID', 'COMMAND']);
    expect(body.Processes.map((r) => Number(r[0])).sort(numeric)).toEqual(spawner.all);
    const refused = await husk.run(['top', spawner.id, '-o', 'ppid=PID,args']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/not allowed/);
  });

  it('prints text as docker top does (tabwriter: columns of at least 20, 3 spaces of padding)', async () => {
    const result = await husk.run(['top', spawner.id]);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const lines = String(result.stdout).split('\n');
    expect(lines).toHaveLength(12);
    // every cell but CMD is shorter than 17 characters here: 7 columns of exactly 20
    expect(lines[0]).toBe(PS_EF_TITLES.slice(0, 7).map((t) => t.padEnd(20)).join('') + 'CMD');
    const pids = lines.slice(1).map((line) => Number(line.slice(20, 40).trim()));
    expect(pids.sort(numeric)).toEqual(spawner.all);
    for (const line of lines.slice(1)) expect(line.slice(140)).toBe(SPAWN_CMD);
  });
});

describe('containerTop / containerProcessTree (API)', () => {
  it("containerTop's default table equals ps -ef's rows for the container's pids", async () => {
    for (const [c, command] of [[spawner, SPAWN_CMD], [shell, SHELL_CMD]] as const) {
      const table = await containerTop(rt, c.id);
      expect(table.status).toBe('running');
      expectElevenWithParents(table, c, command);
      await expectSameAsPsEf(table, c.all);
    }
  });

  it('containerTop passes psArgs to ps and validates them as moby does', async () => {
    const table = await containerTop(rt, shell.id, { psArgs: ['-o', 'pid,ppid,rss,args'] });
    expect(table.titles).toEqual(['PID', 'PPID', 'RSS', 'COMMAND']);
    expectElevenWithParents(table, shell, SHELL_CMD);
    const error = await containerTop(rt, shell.id, { psArgs: ['-o', 'pid,ppid=PID'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PsError);
    expect((error as PsError).reason).toBe('relabelled-pid');
  });

  it('the tree has the init at the root (pid 1 inside) and its 10 children with their NSpid', () => {
    for (const c of [spawner, shell]) {
      const { status, roots } = containerProcessTree(rt, c.id);
      expect(status).toBe('running');
      expect(roots).toHaveLength(1);
      const root = roots[0]!;
      expect(root).toMatchObject({ pid: c.initPid, nsPid: 1, ppid: ppidOf(c.initPid), user: 'root' });
      expect(root.children.map((child) => child.pid)).toEqual(c.childPids);
      for (const child of root.children) {
        expect(child.ppid).toBe(c.initPid);
        expect(child.nsPid).toBe(nsPidOf(child.pid));
        expect(child.nsPid).toBeGreaterThan(1);
        expect(child.children).toEqual([]);
      }
    }
  });
});

describe('a paused container', () => {
  it('still shows its processes (ps, top, tree) with status paused', async () => {
    const { cgroup } = containerCgroup(rt, spawner.id);
    await cgroup.freeze();
    try {
      expect(containerState(rt, spawner.id).status).toBe('paused');
      const table = await containerTop(rt, spawner.id);
      expect(table.status).toBe('paused');
      expectElevenWithParents(table, spawner, SPAWN_CMD);
      const result = await husk.run(['ps', '-f', 'json', spawner.id]);
      expect(result.exitCode, String(result.stderr)).toBe(0);
      expect((JSON.parse(String(result.stdout)) as number[]).sort(numeric)).toEqual(spawner.all);
      const tree = containerProcessTree(rt, spawner.id);
      expect(tree.status).toBe('paused');
      expect(tree.roots[0]!.nsPid).toBe(1);
      expect(tree.roots[0]!.children).toHaveLength(10);
    } finally {
      await cgroup.thaw();
    }
    expect(containerState(rt, spawner.id).status).toBe('running');
  });
});

describe('a created, then stopped, and an unknown container', () => {
  it('a created container shows its init; once stopped, ps and top say so clearly', async () => {
    const bundle = await makeTestBundle({ args: ['true'] });
    bundles.push(bundle);
    const id = idOf('short');
    ids.push(id);
    const created = await runDetached(['create', '-b', bundle.dir, id], join(logDir, 'short.out'));
    expect(created.exitCode, created.stderr).toBe(0);
    const initPid = containerState(rt, id).pid!;
    seenPids.add(initPid);

    const json = await husk.run(['ps', '-f', 'json', id]);
    expect(json.exitCode, String(json.stderr)).toBe(0);
    expect(JSON.parse(String(json.stdout))).toEqual([initPid]);
    const table = await containerTop(rt, id);
    expect(table.status).toBe('created');
    expect(table.processes.map((r) => Number(r[1]))).toEqual([initPid]);
    expect(containerProcessTree(rt, id).roots).toMatchObject([{ pid: initPid, nsPid: 1, children: [] }]);

    expect((await husk.run(['kill', id, 'KILL'])).exitCode).toBe(0);
    for (let attempt = 0; attempt < 500 && containerState(rt, id).status !== 'stopped'; attempt++) await sleep(20);
    expect(containerState(rt, id).status).toBe('stopped');

    for (const args of [['ps', id], ['ps', '-f', 'json', id], ['ps', '--tree', id], ['top', id], ['top', '-f', 'json', id]]) {
      const result = await husk.run(args);
      expect(result.exitCode, args.join(' ')).toBe(1);
      expect(result.stdout, args.join(' ')).toBe('');
      expect(result.stderr, args.join(' ')).toBe(`husk: container "${id}" is stopped: it has no processes to show`);
    }
    const error = await containerTop(rt, id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerError);
    expect((error as ContainerError).code).toBe('ESTATE');
    expect(() => containerProcessTree(rt, id)).toThrow(/is stopped/);
  });

  it('an unknown id is an error naming it', async () => {
    const id = idOf('never-created');
    for (const args of [['ps', id], ['ps', '-f', 'json', id], ['ps', '--tree', id], ['top', id]]) {
      const result = await husk.run(args);
      expect(result.exitCode, args.join(' ')).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`husk: container does not exist: "${id}"`);
    }
    const error = await containerTop(rt, id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerError);
    expect((error as ContainerError).code).toBe('ENOTFOUND');
  });
});
