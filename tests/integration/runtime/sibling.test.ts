/**
 * No relay: the process `husk exec` runs (and the init of a container that joins a pid
 * namespace) is cloned as a sibling of the intermediate that entered the pid namespace
 * (CLONE_PARENT, as runc's nsexec), so it is husk's own child: the pid in --pid-file is a
 * direct child of husk, nothing else of husk is in the container's cgroup, and once husk
 * exits the process, or its exit status, reaches husk's caller's subreaper, as an engine
 * (conmon, containerd-shim) needs.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, testCgroupParent, useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle } from '../../helpers/rootfs.js';
import { buildSubreaper, type Subreaper } from '../../helpers/subreaper.js';
import type { Spec } from '../../../src/spec/types.js';

const { husk, bundles, newId } = useHuskSuite();
let subreaper: Subreaper;
beforeAll(async () => {
  subreaper = await buildSubreaper();
});
afterAll(() => subreaper?.cleanup());

/** The husk CLI command line, for the subreaper to run. */
const huskCommand = (args: string[]): string[] => ['node', cliPath, '--root', husk.root, '--cgroup-parent', testCgroupParent, ...args];

/** Each test runs several CLI commands one after the other: give a loaded machine time. */
const severalCommands = { timeout: 120_000 };

async function running(mutate?: (spec: Spec) => void): Promise<{ id: string; init: number }> {
  const bundle = await makeTestBundle({ args: ['sleep', '300'], ...(mutate && { mutate }) });
  bundles.push(bundle);
  const id = newId('sibling');
  const run = await husk.detached(['run', '-d', '--bundle', bundle.dir, id]);
  expect(run.stderr).toBe('');
  return { id, init: (await husk.state(id)).pid! };
}

/** Waits (bounded) until `file` holds a pid. */
async function pidFrom(file: string): Promise<number> {
  for (let i = 0; i < 2000; i++) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      if (/^\d+$/.test(text)) return Number(text);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${file} never got a pid`);
}

const ppidOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
const nsPids = (pid: number): string[] => readFileSync(`/proc/${pid}/status`, 'utf8').match(/^NSpid:\t(.*)$/m)![1]!.split('\t');

async function psPids(id: string): Promise<number[]> {
  const result = await husk.run(['ps', '--format', 'json', id]);
  expect(result.stderr).toBe('');
  return (JSON.parse(String(result.stdout)) as number[]).sort((a, b) => a - b);
}

/** Waits (bounded) until pid is gone or a zombie. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 2000; i++) {
    try {
      if (/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

describe('exec without a relay', () => {
  it("the pid in --pid-file is husk's own child, the only process added to the cgroup, holding no fd of husk", severalCommands, async () => {
    const { id, init } = await running();
    const pidFile = `${husk.root}/.exec-${id}.pid`;
    const exec = husk.run(['exec', '--pid-file', pidFile, id, '/bin/testinit', 'sleep', '300']);
    const pid = await pidFrom(pidFile);
    expect(ppidOf(pid)).toBe(exec.pid);
    expect(nsPids(pid)).toHaveLength(2); // in the container's pid namespace, not pid 1 of it
    expect(readlinkSync(`/proc/${pid}/ns/pid`)).toBe(readlinkSync(`/proc/${init}/ns/pid`));
    expect(await psPids(id)).toEqual([init, pid].sort((a, b) => a - b));
    expect(readdirSync(`/proc/${pid}/fd`).sort()).toEqual(['0', '1', '2']);
    exec.kill('SIGTERM'); // forwarded by husk straight to its child
    expect((await exec).exitCode).toBe(143);
    expect(await psPids(id)).toEqual([init]);
  });

  it("a fast exec's exit status: from husk itself, and with -d from the caller's subreaper", severalCommands, async () => {
    const { id } = await running();
    for (let i = 0; i < 3; i++) expect((await husk.run(['exec', id, '/bin/testinit', 'exit', '5'])).exitCode).toBe(5);
    for (const [args, code] of [
      [['exit', '5'], 5],
      [['sleep', '0.3'], 0],
    ] as const) {
      const pidFile = `${husk.root}/.exec-${id}-${args[0]}.pid`;
      const reaped = await subreaper.run(huskCommand(['exec', '-d', '--pid-file', pidFile, id, '/bin/testinit', ...args]));
      expect(reaped.command.exitCode, reaped.stderr).toBe(0);
      // exactly the process husk named, with its own status: no relay, no intermediate
      expect(reaped.orphans).toEqual([{ pid: Number(readFileSync(pidFile, 'utf8')), exitCode: code, signal: null }]);
    }
  });

  it('with a terminal (-t): the process is on a pty and its exit code comes back', severalCommands, async () => {
    const { id } = await running();
    const tty = await husk.run(['exec', '-t', id, '/bin/testinit', 'isatty', '0']);
    expect(tty.stderr).toBe('');
    expect(String(tty.stdout).replace(/\r/g, '').trim()).toBe('yes');
    expect((await husk.run(['exec', '-t', id, '/bin/testinit', 'exit', '3'])).exitCode).toBe(3);
    const pidFile = `${husk.root}/.exec-${id}-tty.pid`;
    const exec = husk.run(['exec', '-t', '--pid-file', pidFile, id, '/bin/testinit', 'sleep', '300']);
    const pid = await pidFrom(pidFile);
    expect(ppidOf(pid)).toBe(exec.pid);
    exec.kill('SIGTERM');
    expect((await exec).exitCode).toBe(143);
  });

  it('without a pid namespace, a detached exec outlives husk, and kill --all of the stopped container ends it', severalCommands, async () => {
    const { id, init } = await running((spec) => (spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'pid')));
    const pidFile = `${husk.root}/.exec-${id}.pid`;
    expect((await husk.detached(['exec', '-d', '--pid-file', pidFile, id, '/bin/testinit', 'sleep', '300'])).stderr).toBe('');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) S /); // alive, husk gone
    expect(await psPids(id)).toEqual([init, pid].sort((a, b) => a - b));
    expect((await husk.run(['kill', id, 'KILL'])).exitCode).toBe(0);
    expect(await gone(init)).toBe(true);
    expect((await husk.state(id)).status).toBe('stopped');
    expect((await husk.run(['kill', '--all', id, 'KILL'])).exitCode).toBe(0); // what containerd's shim sends
    expect(await gone(pid)).toBe(true);
    expect((await husk.run(['delete', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });
});

describe('a container joining a pid namespace', () => {
  const joiningPid = (pid: number, args: string[]) => (spec: Spec) => {
    spec.process!.args = ['/bin/testinit', ...args];
    spec.linux!.namespaces = [...spec.linux!.namespaces!.filter((n) => n.type !== 'pid'), { type: 'pid', path: `/proc/${pid}/ns/pid` }];
  };

  it("has an init that is husk's own child, alone in its cgroup; detached, its exit status reaches the subreaper", severalCommands, async () => {
    const box = await running();
    const bundle = await makeTestBundle({ mutate: joiningPid(box.init, ['sleep', '300']) });
    bundles.push(bundle);
    const id = newId('joined');
    const pidFile = `${husk.root}/.run-${id}.pid`;
    const run = husk.run(['run', '--pid-file', pidFile, '--bundle', bundle.dir, id]);
    const pid = await pidFrom(pidFile);
    expect(ppidOf(pid)).toBe(run.pid);
    expect(readlinkSync(`/proc/${pid}/ns/pid`)).toBe(readlinkSync(`/proc/${box.init}/ns/pid`));
    expect(await psPids(id)).toEqual([pid]);
    run.kill('SIGTERM');
    expect((await run).exitCode).toBe(143);
    husk.expectGone(id);

    const exitBundle = await makeTestBundle({ mutate: joiningPid(box.init, ['exit', '7']) });
    bundles.push(exitBundle);
    const detachedId = newId('joined');
    const detachedPidFile = `${husk.root}/.run-${detachedId}.pid`;
    const reaped = await subreaper.run(huskCommand(['run', '-d', '--pid-file', detachedPidFile, '--bundle', exitBundle.dir, detachedId]));
    expect(reaped.command.exitCode, reaped.stderr).toBe(0);
    expect(reaped.orphans).toEqual([{ pid: Number(readFileSync(detachedPidFile, 'utf8')), exitCode: 7, signal: null }]);
    expect((await husk.run(['delete', detachedId])).exitCode).toBe(0);
    husk.expectGone(detachedId);
  });
});
