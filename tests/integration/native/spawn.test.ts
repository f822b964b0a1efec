/**
 * spawn(): the addon's fork-exec primitive. The child is cloned in new
 * namespaces, reports any failure before exec as {step, errno}, and is awaited
 * through a pidfd: no zombie, no leaked fd or thread in this (the parent) process.
 */
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { SetupError } from '../../../src/runtime/errors.js';
import { spawn } from '../../../src/runtime/spawn.js';

/** Runs a shell command in a spawned child; returns its stdout and exit. */
async function capture(script: string, options: Parameters<typeof spawn>[0] extends infer O ? Partial<O> : never = {}) {
  const file = `/tmp/husk-spawn-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const out = openSync(file, 'w+');
  try {
    const child = await spawn({ file: '/bin/sh', args: ['sh', '-c', script], stdio: [0, out, 2], ...options });
    const exit = await child.wait();
    return { exit, stdout: readFileSync(file, 'utf8') };
  } finally {
    closeSync(out);
    rmSync(file);
  }
}

const inode = (path: string): string => readlinkSync(path);

describe('namespaces', () => {
  it('a child in new uts/pid/mount/ipc/net/user namespaces sees its own world; the host is unchanged', async () => {
    // Engine tests mount and unmount on the host meanwhile: compare only what this child could leave,
    // mounts on /mnt (where it mounts) and any mount of the tmpfs it names.
    const source = `husk-spawn-test-${process.pid}`;
    const ours = (): string[] =>
      readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => {
        const [before, after = ''] = line.split(' - ');
        const mountPoint = before!.split(' ')[4] ?? '';
        return mountPoint === '/mnt' || mountPoint.startsWith('/mnt/') || after.split(' ')[1] === source;
      });
    const hostMounts = ours();
    const hostName = hostname();
    const { exit, stdout } = await capture(
      `echo "pid=$$"; echo "host=$(hostname)"; echo "uid=$(id -u)"; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; mount -t tmpfs ${source} /mnt && grep -q " /mnt .* - tmpfs ${source} " /proc/self/mountinfo && echo mounted; readlink /proc/self/ns/ipc`,
      {
        namespaces: ['uts', 'pid', 'mount', 'ipc', 'network', 'user'],
        uidMap: [{ containerID: 0, hostID: 0, size: 65536 }],
        gidMap: [{ containerID: 0, hostID: 0, size: 65536 }],
        hostname: 'spawned',
      },
    );
    expect(exit).toEqual({ exitCode: 0, signal: null });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('pid=1');
    expect(lines[1]).toBe('host=spawned');
    expect(lines[2]).toBe('uid=0');
    expect(lines[3]!.trim()).toBe('lo');
    expect(lines[4]).toBe('mounted');
    expect(lines[5]).not.toBe(inode('/proc/self/ns/ipc'));
    // the host saw none of it
    expect(hostname()).toBe(hostName);
    expect(ours()).toEqual(hostMounts);
  });

  it('joins the namespaces of another process', async () => {
    const holder = await spawn({ file: '/bin/sleep', args: ['sleep', '30'], namespaces: ['uts'], hostname: 'holder' });
    try {
      const { stdout } = await capture('hostname', { join: { pid: holder.pid, namespaces: ['uts'] } });
      expect(stdout.trim()).toBe('holder');
    } finally {
      holder.kill('SIGKILL');
      await holder.wait();
    }
  });
});

describe('failures before exec', () => {
  it('a missing executable rejects with the step and ENOENT, and leaves no process', async () => {
    const before = childPids();
    const error = await spawn({ file: '/nonexistent/binary' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SetupError);
    expect(error).toMatchObject({ step: 'exec /nonexistent/binary', code: 'ENOENT', errno: -2 });
    expect((error as Error).message).toBe('exec /nonexistent/binary: ENOENT (no such file or directory)');
    expect(childPids()).toEqual(before);
  });

  it('a bad uid map rejects with the write that failed, and leaves no process', async () => {
    const before = childPids();
    const error = await spawn({ file: '/bin/true', namespaces: ['user'], uidMap: [{ containerID: 0, hostID: 0, size: 0 }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SetupError);
    expect(error).toMatchObject({ code: 'EINVAL' });
    expect((error as Error).message).toMatch(/^write \/proc\/\d+\/uid_map "0 0 0": EINVAL/);
    expect(childPids()).toEqual(before);
  });

  it('a step that fails in the child is named with its errno', async () => {
    const error = await spawn({ file: '/bin/true', cwd: '/nonexistent' }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('chdir to /nonexistent: ENOENT (no such file or directory)');
  });
});

describe('exit status', () => {
  it('returns exit codes and signals', async () => {
    expect((await capture('exit 42')).exit).toEqual({ exitCode: 42, signal: null });
    expect((await capture('kill -TERM $$')).exit).toEqual({ exitCode: null, signal: 'SIGTERM' });
    const child = await spawn({ file: '/bin/sleep', args: ['sleep', '30'] });
    expect(child.kill('SIGKILL')).toBe(true);
    expect(await child.wait()).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(child.kill('SIGKILL')).toBe(false); // gone, and its pid is never signalled again
  });

  it('100 spawns in a row leak no fd, thread or zombie', async () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const threads = (): number => readdirSync('/proc/self/task').length;
    await (await spawn({ file: '/bin/true', namespaces: ['pid', 'uts'] })).wait(); // warm-up
    const before = { fds: fds(), threads: threads(), children: childPids().length };
    for (let i = 0; i < 100; i++) {
      const child = await spawn({ file: '/bin/true', namespaces: ['pid', 'uts'] });
      expect((await child.wait()).exitCode).toBe(0);
    }
    expect({ fds: fds(), threads: threads(), children: childPids().length }).toEqual(before);
  });
});

/** This process's children (a zombie counts: it would be a leak). */
function childPids(): number[] {
  const children: number[] = [];
  for (const task of readdirSync('/proc/self/task')) {
    const list = readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim();
    if (list !== '') children.push(...list.split(' ').map(Number));
  }
  return children.sort((a, b) => a - b);
}
