/**
 * containerd 1.6 with ctr drives husk through the runc v2 shim (`ctr run --runc-binary dist/cli.js`,
 * which the shim gets as the runc options' BinaryName) as it drives runc, the reference, in the same
 * run: every check runs once per runtime and must pass for both. containerd runs with its own
 * config.toml, root, state and sockets; containers go beneath this test's cgroup.
 * ctr has no healthcheck, named volume, stop (kill + wait), --user for run, or pids limit: those checks
 * are podman's and docker's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupsUnder, runtimeNames, startContainerd, type Containerd, type RuntimeName } from '../helpers/engines.js';
import { buildBusyboxImage, type BusyboxImage } from '../helpers/images.js';
import { eatsMemory, exitsOnTerm, hostLimits, ignoresTerm, loopbackState, onPty, waitFor } from './common.js';

let containerd: Containerd;
let image: BusyboxImage;
let imageDir: string;

beforeAll(async () => {
  containerd = await startContainerd();
  imageDir = mkdtempSync('/tmp/husk-engines-image-');
  image = buildBusyboxImage(imageDir);
  const imported = await containerd.cli(['images', 'import', image.ociArchive]);
  expect(imported.stderr).toBe('');
  expect(imported.exitCode).toBe(0);
}, 120_000);

afterAll(async () => {
  await containerd?.stop();
  rmSync(imageDir, { recursive: true, force: true });
  if (containerd !== undefined) expect(cgroupsUnder(containerd.cgroupParent)).toEqual([]);
}, 120_000);

describe.each(runtimeNames)('containerd (ctr) with %s', (runtime: RuntimeName) => {
  const ctr = (args: string[], options?: Parameters<Containerd['cli']>[1]) => containerd.cli(args, options);
  const name = (what: string): string => `${what}-${runtime}`;
  /** `ctr run` flags for container `id`: the runtime, its private root, a cgroup beneath the test's. */
  const runFlags = (id: string): string[] => [...containerd.runtimeFlags(runtime), '--cgroup', `${containerd.cgroupParent}/${id}`];
  const logOf = (id: string): string => join(containerd.dir, `${id}.log`);
  const runDetached = async (id: string, script: string, more: string[] = []): Promise<void> => {
    const r = await ctr(['run', '-d', ...runFlags(id), '--log-uri', `file://${logOf(id)}`, ...more, image.qualifiedName, id, 'sh', '-c', script]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  };
  const logSays = (id: string, text: string) =>
    waitFor(`${id} to print ${text}`, async () => {
      try {
        return readFileSync(logOf(id), 'utf8').includes(text) ? true : undefined;
      } catch {
        return undefined;
      }
    });
  const status = async (id: string): Promise<string> => {
    const line = String((await ctr(['tasks', 'ls'])).stdout)
      .split('\n')
      .find((l) => l.split(/\s+/)[0] === id);
    return line?.split(/\s+/)[2] ?? 'none';
  };
  const stopped = (id: string) => waitFor(`${id} to stop`, async () => ((await status(id)) === 'STOPPED' ? true : undefined));
  /** Deletes the stopped task (ctr exits with the task's exit code) and its container. */
  const removeStopped = async (id: string): Promise<number | undefined> => {
    const rm = await ctr(['tasks', 'rm', id]);
    await ctr(['containers', 'rm', id]);
    return rm.exitCode;
  };

  it('run --rm returns the exit code of the container', async () => {
    const id = name('rm');
    const r = await ctr(['run', '--rm', ...runFlags(id), image.qualifiedName, id, 'sh', '-c', 'exit 3']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(3);
  });

  describe('a detached task', () => {
    const id = name('main');
    beforeAll(async () => {
      await runDetached(id, 'echo hello-from-main; exec sleep 100000');
    });
    afterAll(async () => {
      await ctr(['tasks', 'kill', '-s', 'SIGKILL', id]);
      await stopped(id).catch(() => undefined);
      await removeStopped(id);
    });

    it('is running, and its log has its output', async () => {
      expect(await status(id)).toBe('RUNNING');
      await logSays(id, 'hello-from-main');
    });

    it('tasks ps lists its processes (the runtime\'s ps)', async () => {
      const ps = await ctr(['tasks', 'ps', id]);
      expect(ps.stderr).toBe('');
      expect(String(ps.stdout).split('\n').slice(1).filter(Boolean).length).toBeGreaterThanOrEqual(1);
    });

    it('tasks metrics reports its memory and pids', async () => {
      const metrics = await ctr(['tasks', 'metrics', '--format', 'json', id]);
      expect(metrics.stderr).toBe('');
      const data = JSON.parse(String(metrics.stdout)) as { memory?: { usage?: { usage?: number } }; pids?: { current?: number } };
      expect(data.memory?.usage?.usage ?? 0).toBeGreaterThan(0);
      expect(data.pids?.current ?? 0).toBeGreaterThanOrEqual(1);
    });

    it('exec of a fast and of a slow command, with and without -t, returns their exit codes', async () => {
      const fast = await ctr(['tasks', 'exec', '--exec-id', 'fast', id, 'sh', '-c', 'exit 5']);
      expect(fast.exitCode, 'fast').toBe(5);
      const slow = await ctr(['tasks', 'exec', '--exec-id', 'slow', id, 'sh', '-c', 'sleep 1; echo slow-done; exit 6']);
      expect(String(slow.stdout)).toMatch(/slow-done/);
      expect(slow.exitCode, 'slow').toBe(6);
      // -t takes ctr's own terminal: on a pty.
      const fastTty = await onPty([...containerd.command, 'tasks', 'exec', '-t', '--exec-id', 'fast-t', id, 'sh', '-c', 'exit 5'], '');
      expect(fastTty.exitCode, 'fast -t').toBe(5);
      const slowTty = await onPty([...containerd.command, 'tasks', 'exec', '-t', '--exec-id', 'slow-t', id, 'sh', '-c', 'sleep 1; tty; exit 6'], '');
      expect(slowTty.output).toMatch(/\/dev\/pts\/\d+/);
      expect(slowTty.exitCode, 'slow -t').toBe(6);
    });

    it('exec --user runs as that user', async () => {
      const r = await ctr(['tasks', 'exec', '--exec-id', 'user', '--user', '65534', id, 'id', '-u']);
      expect(r.stderr).toBe('');
      expect(String(r.stdout).trim()).toBe('65534');
    });

    it('pause freezes it and resume thaws it', async () => {
      expect((await ctr(['tasks', 'pause', id])).exitCode).toBe(0);
      expect(await status(id)).toBe('PAUSED');
      expect((await ctr(['tasks', 'resume', id])).exitCode).toBe(0);
      expect(await status(id)).toBe('RUNNING');
    });
  });

  /** `ctr run` in the foreground (ctr exits with the task's code) of `script`, once it printed "ready". */
  const runUntilReady = async (id: string, script: string) => {
    const run = ctr(['run', ...runFlags(id), '--rm', image.qualifiedName, id, 'sh', '-c', script]);
    let output = '';
    run.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(`${id} to be ready`, async () => (output.includes('ready') ? true : undefined));
    return { run }; // not the thenable itself: awaiting that would wait for the exit
  };

  it('kill delivers the signal (a trapped SIGTERM exits 7)', async () => {
    const id = name('kill');
    const { run } = await runUntilReady(id, exitsOnTerm);
    expect((await ctr(['tasks', 'kill', '-s', 'SIGTERM', id])).exitCode).toBe(0);
    expect((await run).exitCode).toBe(7);
  });

  it('a task that ignores SIGTERM keeps running, then SIGKILL ends it (137)', async () => {
    const id = name('stop');
    const { run } = await runUntilReady(id, ignoresTerm);
    expect((await ctr(['tasks', 'kill', '-s', 'SIGTERM', id])).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 1000)); // the stop timeout a user would give it
    expect(await status(id)).toBe('RUNNING');
    expect((await ctr(['tasks', 'kill', '-s', 'SIGKILL', id])).exitCode).toBe(0);
    expect((await run).exitCode).toBe(137);
  });

  it('rm -f removes a running and a stopped task', async () => {
    const running = name('rm-running');
    const stoppedId = name('rm-stopped');
    await runDetached(running, 'exec sleep 100000');
    await runDetached(stoppedId, 'true');
    await stopped(stoppedId);
    for (const id of [running, stoppedId]) {
      const rm = await ctr(['tasks', 'rm', '--force', id]);
      // ctr warns of the killed task's 137; anything else is a failure.
      expect(String(rm.stderr).replace(/^.*level=warning msg="task \S+ exit with non-zero exit code 137"\n?/m, ''), id).toBe('');
      expect(rm.exitCode, id).toBe(0);
      expect((await ctr(['containers', 'rm', id])).exitCode).toBe(0);
    }
    expect(String((await ctr(['tasks', 'ls', '-q'])).stdout).split('\n')).not.toContain(running);
  });

  it('a new network namespace has lo up', async () => {
    const id = name('lo');
    const r = await ctr(['run', '--rm', ...runFlags(id), image.qualifiedName, id, 'sh', '-c', loopbackState]);
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toMatch(/<[^>]*\bUP\b[^>]*>/);
  });

  it('--memory-limit and --cpus are the limits of its cgroup', async () => {
    const id = name('limits');
    await runDetached(id, 'exec sleep 100000', ['--memory-limit', String(64 * 1024 * 1024), '--cpus', '0.5']);
    const limits = hostLimits(`${containerd.cgroupParent}/${id}`);
    expect({ memory: limits['memory'], cpu: limits['cpu'] }).toEqual({ memory: String(64 * 1024 * 1024), cpu: '50000 100000' });
    await ctr(['tasks', 'kill', '-s', 'SIGKILL', id]);
    await stopped(id);
    await removeStopped(id);
  });

  it('a container over its --memory-limit is OOM-killed (137)', async () => {
    const id = name('oom');
    const r = await ctr(['run', '--rm', ...runFlags(id), '--memory-limit', String(32 * 1024 * 1024), image.qualifiedName, id, 'sh', '-c', eatsMemory]);
    expect(r.exitCode).toBe(137);
  });

  it('--read-only makes the rootfs read-only', async () => {
    const id = name('ro');
    const r = await ctr(['run', '--rm', ...runFlags(id), '--read-only', image.qualifiedName, id, 'sh', '-c', 'touch /x 2>&1; echo rc=$?']);
    expect(String(r.stdout)).toMatch(/Read-only file system/);
    expect(String(r.stdout)).toMatch(/rc=1/);
  });

  it('a bind mount carries data in and out', async () => {
    const id = name('bind');
    const host = mkdtempSync(join(containerd.dir, 'bind-'));
    writeFileSync(join(host, 'in'), 'from-host');
    const r = await ctr(['run', '--rm', ...runFlags(id), '--mount', `type=bind,src=${host},dst=/data,options=rbind:rw`, image.qualifiedName, id, 'sh', '-c', 'cat /data/in > /data/out']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(host, 'out'), 'utf8')).toBe('from-host');
  });

  it('run -t runs on a pty: the shell reads what is typed and exits with its code', async () => {
    const id = name('tty');
    const { exitCode, output } = await onPty(
      [...containerd.command, 'run', '-t', '--rm', ...runFlags(id), image.qualifiedName, id, 'sh'],
      'tty; echo typed-$((40+2)); exit 4\n',
      { cwd: containerd.dir },
    );
    expect(output).toMatch(/\/dev\/pts\/0/);
    expect(output).toMatch(/typed-42/);
    expect(exitCode).toBe(4);
  });
});
