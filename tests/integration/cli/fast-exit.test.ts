/**
 * How the CLI ends (src/cli/output.ts): where it is safe, with _exit(2) right after the verb's
 * work, skipping Node's teardown (about 4 ms a command), else with process.exit. Safe means the
 * addon is loaded already and no stdio stream was made: Node then has nothing of the terminal or
 * of the fds' flags to restore, and all output went out through synchronous writes. Seen with
 * strace: process.exit joins Node's worker threads (each calls exit) before exit_group; _exit
 * is exit_group at once. Counts, not times.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, testCgroupParent, useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle } from '../../helpers/rootfs.js';

const { husk, bundles, newId } = useHuskSuite();
const traceDir = mkdtempSync('/tmp/husk-test-exit-');
afterAll(() => rmSync(traceDir, { recursive: true, force: true }));

/** husk under `strace -f -e exit,exit_group`: its exit status, stdout, stderr, and the threads that called exit before the main one called exit_group. */
async function exitOf(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string; threadExitsFirst: number; exitGroup: string }> {
  const out = join(traceDir, `trace-${Date.now()}-${Math.random()}`);
  const result = await execa('strace', ['-f', '-qq', '-o', out, '-e', 'trace=exit,exit_group', 'node', cliPath, '--root', husk.root, '--cgroup-parent', testCgroupParent, ...args], {
    reject: false,
    timeout: 60_000,
    env: { NODE_EXTRA_CA_CERTS: '' },
  });
  const lines = readFileSync(out, 'utf8').split('\n');
  const at = lines.findIndex((line) => /^\d+\s+exit_group\(/.test(line));
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    threadExitsFirst: lines.slice(0, at).filter((line) => /^\d+\s+exit\(/.test(line)).length,
    exitGroup: /exit_group\((\d+)\)/.exec(lines[at] ?? '')?.[1] ?? 'none',
  };
}

describe('the CLI’s exit', () => {
  it('is _exit(2) at once after a verb that loaded the addon (kill), with its status and output kept', async () => {
    const bundle = await makeTestBundle({ args: ['sleep', '300'] });
    bundles.push(bundle);
    const id = newId('fast-exit');
    expect((await husk.detached(['run', '--detach', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    const killed = await exitOf(['kill', id, 'CONT']);
    expect(killed).toMatchObject({ exitCode: 0, stderr: '', threadExitsFirst: 0, exitGroup: '0' });
    // A failing verb after the addon: its message whole, its status 1.
    const refused = await exitOf(['kill', '--all', 'no-such-container', 'KILL']);
    expect(refused).toMatchObject({ exitCode: 1, exitGroup: '1' });
    expect(refused.stderr).toContain('container does not exist: "no-such-container"');
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
  });

  it('is process.exit (Node joins its threads first) when the addon was never loaded (state), the output whole', async () => {
    const bundle = await makeTestBundle({ args: ['sleep', '300'] });
    bundles.push(bundle);
    const id = newId('slow-exit');
    expect((await husk.detached(['create', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    const state = await exitOf(['state', id]);
    expect(state.exitCode).toBe(0);
    expect(state.threadExitsFirst).toBeGreaterThan(0);
    expect(JSON.parse(state.stdout)).toMatchObject({ id, status: 'created' });
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
  });
});
