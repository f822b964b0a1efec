/**
 * --preserve-fds N passes the caller's fds 3 .. 3+N-1 to the container, and
 * nothing else: asked for more than it was given, husk once handed the
 * container its own epoll, eventfds, libuv's signal pipe and the sync socket,
 * and a container that wrote into them crashed the husk process that ran it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, testCgroupParent, useHuskSuite } from '../../helpers/husk.js';
import { makeHostToolsBundle } from '../../helpers/rootfs.js';

const { husk, bundles, newId } = useHuskSuite();

let outputs = 0;

/**
 * husk with these fds as its 3, 4, ... (as a shim hands them over). Its stdout and stderr are
 * files: a container left running (run -d) keeps them open, as it would keep pipes.
 */
async function huskWithFds(args: string[], fds: number[]): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const base = join(husk.root, `.pfd-${outputs++}`);
  const out = openSync(`${base}.stdout`, 'w');
  const err = openSync(`${base}.stderr`, 'w');
  const child = spawn('node', [cliPath, '--root', husk.root, '--cgroup-parent', testCgroupParent, ...args], {
    stdio: ['ignore', out, err, ...fds],
  });
  closeSync(out);
  closeSync(err);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  const result = { code, signal, stdout: readFileSync(`${base}.stdout`, 'utf8'), stderr: readFileSync(`${base}.stderr`, 'utf8') };
  rmSync(`${base}.stdout`);
  rmSync(`${base}.stderr`);
  return result;
}

// The attacker's program: write 32 bytes into every fd it was given above 2, then list them.
const attack = 'for fd in $(seq 3 12); do printf "%032d" 0 >&$fd; done 2>/dev/null; for fd in /proc/self/fd/*; do readlink $fd; done';

describe('--preserve-fds', () => {
  it('refuses N beyond the fds it was given, before anything is created (runc: "unable to stat preserved-fd")', async () => {
    const bundle = await makeHostToolsBundle({ args: ['/bin/bash', '-c', attack] });
    bundles.push(bundle);
    const id = newId('pfd-none');
    const result = await huskWithFds(['run', '--preserve-fds', '10', '--bundle', bundle.dir, id], []);
    expect(result.signal).toBeNull(); // the husk process was not crashed
    expect(result.stderr).toContain('unable to stat preserved-fd 0 (of 10)');
    expect(result.stdout).not.toMatch(/eventpoll|eventfd|socket:/);
    expect(result.code).toBe(1);
    husk.expectGone(id);
  });

  it('refuses N when only some were given, and a negative or huge N', async () => {
    const bundle = await makeHostToolsBundle({ args: ['/bin/true'] });
    bundles.push(bundle);
    const file = openSync(join(bundle.dir, 'config.json'), 'r');
    try {
      const id = newId('pfd-some');
      const some = await huskWithFds(['run', '--preserve-fds', '3', '--bundle', bundle.dir, id], [file]);
      expect(some.stderr).toContain('unable to stat preserved-fd 1 (of 3)');
      expect(some.code).toBe(1);
      husk.expectGone(id);
    } finally {
      closeSync(file);
    }
    for (const n of ['-1', '100000', '1.5']) {
      const result = await huskWithFds(['run', '--preserve-fds', n, '--bundle', bundle.dir, newId('pfd-range')], []);
      expect(result.stderr).toContain(`--preserve-fds ${n}: must be an integer from 0 to 897`);
      expect(result.code).toBe(1);
    }
  });

  it('passes exactly the fds it was given, to run and to exec', async () => {
    const bundle = await makeHostToolsBundle({ args: ['/bin/sh', '-c', 'readlink /proc/self/fd/3 /proc/self/fd/4; ls /proc/self/fd | wc -l; sleep 300'] });
    bundles.push(bundle);
    const a = join(bundle.dir, 'a');
    const b = join(bundle.dir, 'b');
    writeFileSync(a, '');
    writeFileSync(b, '');
    const fds = [openSync(a, 'r'), openSync(b, 'r')];
    try {
      const id = newId('pfd-two');
      const run = await huskWithFds(['run', '-d', '--preserve-fds', '2', '--bundle', bundle.dir, id], fds);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const exec = await huskWithFds(['exec', '--preserve-fds', '2', id, '/bin/sh', '-c', 'readlink /proc/self/fd/3 /proc/self/fd/4; ls /proc/self/fd'], fds);
      expect(exec.stderr).toBe('');
      expect(exec.code).toBe(0);
      // 0-2, the two given, and the fd ls lists its directory with: nothing of husk's
      expect(exec.stdout.trim().split('\n')).toEqual([a, b, '0', '1', '2', '3', '4', '5']);
      const refused = await huskWithFds(['exec', '--preserve-fds', '4', id, '/bin/true'], fds);
      expect(refused.stderr).toContain('unable to stat preserved-fd 2 (of 4)');
      expect(refused.code).toBe(1);
      expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
      husk.expectGone(id);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });
});
