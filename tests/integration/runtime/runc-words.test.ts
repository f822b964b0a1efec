/**
 * The errors engines read by their text, checked against runc itself in the same test:
 * containerd's shim turns a kill error containing "container not running" into "process
 * already finished" and one containing "does not exist" into "no such container", and
 * ignores "does not exist" on delete (reading the last `"level":"error"` line of the JSON
 * --log); dockerd's libcontainerd maps "container does not exist" to not-found; podman
 * reads "does not exist" in `state`'s output as a container gone, and maps exec errors
 * with "executable file not found in" / "no such file or directory" to 127. So husk says
 * what runc says, then its own detail. And `kill --all` of a stopped container succeeds,
 * as with runc (containerd's shim sends it after an init exits and on `task rm -f`).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle, type TestBundle } from '../../helpers/rootfs.js';
import { forRunc, makeRunc } from '../../helpers/runc.js';

const { husk, bundles, newId } = useHuskSuite();
const runc = makeRunc();
afterAll(() => runc.cleanup());

type Name = 'husk' | 'runc';
const runtimes: Name[] = ['husk', 'runc'];

async function bundleFor(name: Name, id: string, args: string[]): Promise<TestBundle> {
  const bundle = await makeTestBundle({ args, ...(name === 'runc' && { mutate: (spec) => forRunc(spec, id) }) });
  bundles.push(bundle);
  return bundle;
}

function cli(name: Name): { run: (args: string[]) => Promise<{ exitCode: number; stderr: string }>; detached: (args: string[]) => Promise<{ exitCode: number; stderr: string }> } {
  const runtime = name === 'husk' ? husk : runc;
  return {
    run: async (args) => {
      const result = await runtime.run(args);
      return { exitCode: result.exitCode ?? -1, stderr: String(result.stderr) };
    },
    detached: (args) => runtime.detached(args),
  };
}

async function waitStopped(name: Name, id: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const state = name === 'husk' ? await husk.run(['state', id]) : await runc.run(['state', id]);
    if (state.exitCode !== 0) throw new Error(`${name} state ${id}: ${String(state.stderr)}`);
    if ((JSON.parse(String(state.stdout)) as { status: string }).status === 'stopped') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${name}: ${id} did not stop`);
}

/** Each test runs a score of CLI commands one after the other: give a loaded machine time. */
const manyCommands = { timeout: 180_000 };

/** Runs `args` under both runtimes; each must fail (or succeed) alike and say `phrase`. */
async function expectBoth(args: (name: Name) => string[], phrase: string | RegExp, exitCodes: Record<Name, number>): Promise<void> {
  for (const name of runtimes) {
    const result = await cli(name).run(args(name));
    expect(result.exitCode, `${name} ${args(name).join(' ')}: ${result.stderr}`).toBe(exitCodes[name]);
    if (typeof phrase === 'string') expect(result.stderr, `${name} ${args(name).join(' ')}`).toContain(phrase);
    else expect(result.stderr, `${name} ${args(name).join(' ')}`).toMatch(phrase);
  }
}

describe("errors in runc's words", () => {
  it('an unknown id: "container does not exist" from every verb, in stderr and in the JSON log', manyCommands, async () => {
    const id = 'no-such-container';
    for (const verb of [['state', id], ['kill', id, '9'], ['kill', '--all', id, '9'], ['delete', id], ['start', id], ['pause', id], ['resume', id], ['ps', id]]) {
      await expectBoth(() => verb, 'container does not exist', { husk: 1, runc: 1 });
    }
    // runc exec fails with 255 (husk with 1): what engines read is the text
    for (const name of runtimes) expect((await cli(name).run(['exec', id, '/bin/testinit', 'true'])).stderr).toContain('container does not exist');
    await expectBoth(() => ['delete', '--force', id], '', { husk: 0, runc: 0 });
    // containerd's shim reads the last "error" line of the JSON log (getLastRuntimeError)
    for (const name of runtimes) {
      const log = `${name === 'husk' ? husk.root : runc.root}/.log-${name}.json`;
      expect((await cli(name).run(['--log', log, '--log-format', 'json', 'kill', id, '9'])).exitCode).toBe(1);
      const errors = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string }).filter((e) => e.level === 'error');
      expect(errors.at(-1)?.msg, name).toMatch(/^container does not exist/);
    }
  });

  it('a running container: create again, start, delete, resume and a missing command say what runc says', manyCommands, async () => {
    for (const name of runtimes) {
      const id = newId(`words-${name}`);
      const bundle = await bundleFor(name, id, ['sleep', '300']);
      const run = await cli(name).detached(['run', '-d', '--bundle', bundle.dir, id]);
      expect(run.exitCode, run.stderr).toBe(0);
      const check = async (args: string[], phrase: string, exitCode = 1): Promise<void> => {
        const result = await cli(name).run(args);
        expect(result.exitCode, `${name} ${args.join(' ')}: ${result.stderr}`).toBe(exitCode);
        expect(result.stderr, `${name} ${args.join(' ')}`).toContain(phrase);
      };
      await check(['create', '--bundle', bundle.dir, id], 'container with given ID already exists');
      await check(['start', id], 'cannot start an already running container');
      await check(['delete', id], `cannot delete container ${id} that is not stopped: running`);
      await check(['resume', id], 'container not paused');
      const execFails = name === 'runc' ? 255 : 1;
      await check(['exec', id, 'nope'], 'executable file not found in $PATH', execFails);
      await check(['exec', id, '/bin/nope'], 'no such file or directory', execFails);
      await check(['pause', id], '', 0);
      await check(['exec', id, '/bin/testinit', 'true'], 'cannot exec in a paused container', execFails);
      await check(['resume', id], '', 0);
      await check(['delete', '--force', id], '', 0);
    }
  });

  it('a stopped container: kill --all succeeds (as runc); kill, exec, start, pause, update, events say "not running"', manyCommands, async () => {
    for (const name of runtimes) {
      const id = newId(`stopped-${name}`);
      const bundle = await bundleFor(name, id, ['true']);
      const run = await cli(name).detached(['run', '-d', '--bundle', bundle.dir, id]);
      expect(run.exitCode, run.stderr).toBe(0);
      await waitStopped(name, id);
      const check = async (args: string[], phrase: string, exitCode: number): Promise<void> => {
        const result = await cli(name).run(args);
        expect(result.exitCode, `${name} ${args.join(' ')}: ${result.stderr}`).toBe(exitCode);
        expect(result.stderr, `${name} ${args.join(' ')}`).toContain(phrase);
      };
      await check(['kill', '--all', id, '9'], '', 0);
      await check(['kill', '--all', id, 'TERM'], '', 0);
      await check(['kill', id, '9'], 'container not running', 1);
      await check(['exec', id, '/bin/testinit', 'true'], 'cannot exec in a stopped container', name === 'runc' ? 255 : 1);
      await check(['start', id], 'cannot start a container that has stopped', 1);
      await check(['pause', id], 'container not running', 1);
      await check(['update', '--pids-limit', '10', id], 'container not running', 1);
      await check(['events', '--stats', id], `container with id ${id} is not running`, 1);
      await check(['delete', id], '', 0);
      if (name === 'husk') husk.expectGone(id);
    }
  });
});
