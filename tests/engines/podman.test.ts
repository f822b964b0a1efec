/**
 * podman 4.3 drives husk (`--runtime dist/cli.js`) as it drives runc, the reference, in the same run:
 * every check runs once per runtime and must pass for both. podman is started with private
 * --root/--runroot/--tmpdir, the cgroupfs manager beneath this test's cgroup, file events, and a
 * busybox image loaded from a local archive.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podmanUlimits, runtimeNames, runtimes, startPodman, cgroupsUnder, type Podman, type RuntimeName } from '../helpers/engines.js';
import { buildBusyboxImage, type BusyboxImage } from '../helpers/images.js';
import { eatsMemory, exitsOnTerm, ignoresTerm, loopbackState, onPty, parseLimits, printLimits, waitFor } from './common.js';

let podman: Podman;
let image: BusyboxImage;
let imageDir: string;

beforeAll(async () => {
  podman = startPodman();
  imageDir = mkdtempSync('/tmp/husk-engines-image-');
  image = buildBusyboxImage(imageDir);
  const loaded = await podman.cli(['load', '-q', '-i', image.dockerArchive]);
  expect(loaded.stderr, 'podman load').not.toMatch(/Error/);
  expect(loaded.exitCode).toBe(0);
}, 120_000);

afterAll(async () => {
  await podman?.stop();
  rmSync(imageDir, { recursive: true, force: true });
  if (podman !== undefined) expect(cgroupsUnder(podman.cgroupParent)).toEqual([]);
}, 120_000);

describe.each(runtimeNames)('podman with %s', (runtime: RuntimeName) => {
  const p = (args: string[], options?: Parameters<Podman['cli']>[1]) => podman.withRuntime(runtime)(args, options);
  const runArgs = (): string[] => ['--network', 'none', '--cgroup-parent', podman.cgroupParent, ...podmanUlimits];
  const name = (what: string): string => `${what}-${runtime}`;
  const inspect = async (id: string, format: string): Promise<string> => String((await p(['inspect', '--format', format, id])).stdout).trim();
  const logsSay = (id: string, text: string) =>
    waitFor(`${id} to print ${text}`, async () => (String((await p(['logs', id])).stdout).includes(text) ? true : undefined));

  it('run --rm returns the exit code of the container', async () => {
    const r = await p(['run', '--rm', ...runArgs(), image.name, 'sh', '-c', 'exit 3']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(3);
  });

  describe('a detached container', () => {
    const id = name('main');
    beforeAll(async () => {
      const r = await p(['run', '-d', '--name', id, ...runArgs(), '--health-cmd', 'test -e /tmp/healthy', '--health-interval', '0', image.name, 'sh', '-c', 'echo hello-from-main; exec sleep 100000']);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
    });
    afterAll(async () => {
      await p(['rm', '-f', '-t', '0', id]);
    });

    it('is running and listed by ps', async () => {
      expect(await inspect(id, '{{.State.Status}}')).toBe('running');
      const ps = await p(['ps', '--filter', `name=^${id}$`, '--format', '{{.Names}} {{.Status}}']);
      expect(String(ps.stdout)).toMatch(new RegExp(`^${id} Up`));
    });

    it('logs show its output', async () => {
      await logsSay(id, 'hello-from-main');
    });

    it('exec of a fast and of a slow command, with and without -t, returns their exit codes', async () => {
      for (const tty of [[], ['-t']]) {
        const fast = await p(['exec', ...tty, id, 'sh', '-c', 'exit 5']);
        expect(fast.exitCode, `fast ${tty}`).toBe(5);
        const slow = await p(['exec', ...tty, id, 'sh', '-c', 'sleep 1; echo slow-done; exit 6']);
        expect(String(slow.stdout), `slow ${tty}`).toMatch(/slow-done/);
        expect(slow.exitCode, `slow ${tty}`).toBe(6);
      }
    });

    it('healthcheck run reports unhealthy, then healthy', async () => {
      const before = await p(['healthcheck', 'run', id]);
      expect(before.exitCode).toBe(1);
      expect(String(before.stdout).trim()).toBe('unhealthy');
      expect((await p(['exec', id, 'touch', '/tmp/healthy'])).exitCode).toBe(0);
      const after = await p(['healthcheck', 'run', id]);
      expect(after.stderr).toBe('');
      expect(after.exitCode).toBe(0);
      expect(await inspect(id, '{{.State.Health.Status}}')).toBe('healthy');
    });

    it('top -ef runs ps in the container', async () => {
      const top = await p(['top', id, '-ef']);
      expect(top.stderr).toBe('');
      expect(String(top.stdout)).toMatch(/sleep 100000/);
    });

    it('stats reports its memory and pids', async () => {
      const stats = await p(['stats', '--no-stream', '--format', 'json', id]);
      expect(stats.stderr).toBe('');
      const [entry] = JSON.parse(String(stats.stdout)) as Array<{ name: string; mem_usage: string; pids: string }>;
      expect(entry?.name).toBe(id);
      expect(Number(entry?.pids)).toBeGreaterThanOrEqual(1);
      expect(entry?.mem_usage).toMatch(/^[1-9][0-9.]*[kMG]?B \/ /);
    });

    it('pause freezes it and unpause thaws it', async () => {
      expect((await p(['pause', id])).exitCode).toBe(0);
      expect(await inspect(id, '{{.State.Status}}')).toBe('paused');
      expect((await p(['unpause', id])).exitCode).toBe(0);
      expect(await inspect(id, '{{.State.Status}}')).toBe('running');
    });

    it('top shows its processes', async () => {
      const top = await p(['top', id]);
      expect(top.stderr).toBe('');
      expect(String(top.stdout)).toMatch(/sleep 100000/);
    });
  });

  it('kill delivers the signal (a trapped SIGTERM exits 7)', async () => {
    const id = name('kill');
    expect((await p(['run', '-d', '--name', id, ...runArgs(), image.name, 'sh', '-c', exitsOnTerm])).exitCode).toBe(0);
    await logsSay(id, 'ready');
    const kill = await p(['kill', '--signal', 'TERM', id]);
    expect(kill.stderr).toBe('');
    expect(String((await p(['wait', id])).stdout).trim()).toBe('7');
    expect((await p(['rm', id])).exitCode).toBe(0);
  });

  it('stop of a container that ignores SIGTERM kills it after the timeout (137)', async () => {
    const id = name('stop');
    expect((await p(['run', '-d', '--name', id, ...runArgs(), image.name, 'sh', '-c', ignoresTerm])).exitCode).toBe(0);
    await logsSay(id, 'ready');
    const started = Date.now();
    const stop = await p(['stop', '--time', '1', id]);
    expect(stop.exitCode).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(await inspect(id, '{{.State.ExitCode}}')).toBe('137');
    expect((await p(['rm', id])).exitCode).toBe(0);
  });

  it('rm -f removes a running and a stopped container', async () => {
    const running = name('rm-running');
    const stopped = name('rm-stopped');
    expect((await p(['run', '-d', '--name', running, ...runArgs(), image.name, 'sleep', '100000'])).exitCode).toBe(0);
    expect((await p(['run', '--name', stopped, ...runArgs(), image.name, 'true'])).exitCode).toBe(0);
    for (const id of [running, stopped]) {
      const rm = await p(['rm', '--force', '--time', '0', id]);
      expect(rm.stderr).toBe('');
      expect(rm.exitCode).toBe(0);
    }
    expect(String((await p(['ps', '-a', '--format', '{{.Names}}'])).stdout).split('\n')).not.toContain(running);
  });

  it('--network none has lo up', async () => {
    const r = await p(['run', '--rm', ...runArgs(), image.name, 'sh', '-c', loopbackState]);
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toMatch(/<[^>]*\bUP\b[^>]*>/);
  });

  it('--memory, --pids-limit and --cpus are the cgroup limits the container sees', async () => {
    const r = await p(['run', '--rm', ...runArgs(), '--memory', '64m', '--pids-limit', '20', '--cpus', '0.5', image.name, 'sh', '-c', printLimits]);
    expect(r.exitCode).toBe(0);
    const limits = parseLimits(String(r.stdout));
    expect(limits).toEqual({ memory: String(64 * 1024 * 1024), pids: '20', cpu: '50000 100000' });
  });

  it('a container over its --memory is OOM-killed (137)', async () => {
    const r = await p(['run', '--rm', ...runArgs(), '--memory', '32m', '--memory-swap', '32m', image.name, 'sh', '-c', eatsMemory]);
    expect(r.exitCode).toBe(137);
  });

  it('--read-only makes the rootfs read-only', async () => {
    const r = await p(['run', '--rm', ...runArgs(), '--read-only', image.name, 'sh', '-c', 'touch /x 2>&1; echo rc=$?; touch /tmp/x && echo tmp-ok']);
    expect(String(r.stdout)).toMatch(/Read-only file system/);
    expect(String(r.stdout)).toMatch(/rc=1/);
    expect(String(r.stdout)).toMatch(/tmp-ok/);
  });

  it('--user runs as that user and group', async () => {
    const r = await p(['run', '--rm', ...runArgs(), '--user', '65534:65534', image.name, 'sh', '-c', 'echo $(id -u):$(id -g)']);
    expect(r.stderr).toBe('');
    expect(String(r.stdout).trim()).toBe('65534:65534');
  });

  it('bind mounts and named volumes carry data in and out', async () => {
    const host = mkdtempSync(join(podman.dir, 'bind-'));
    writeFileSync(join(host, 'in'), 'from-host');
    const volume = name('vol');
    expect((await p(['volume', 'create', volume])).exitCode).toBe(0);
    const write = await p(['run', '--rm', ...runArgs(), '-v', `${host}:/data`, '-v', `${volume}:/vol`, image.name, 'sh', '-c', 'cat /data/in > /data/out; echo in-volume > /vol/f']);
    expect(write.stderr).toBe('');
    expect(write.exitCode).toBe(0);
    expect(readFileSync(join(host, 'out'), 'utf8')).toBe('from-host');
    const read = await p(['run', '--rm', ...runArgs(), '-v', `${volume}:/vol:ro`, image.name, 'cat', '/vol/f']);
    expect(String(read.stdout).trim()).toBe('in-volume');
    expect((await p(['volume', 'rm', volume])).exitCode).toBe(0);
  });

  it('-it runs on a pty: the shell reads what is typed and exits with its code', async () => {
    const { exitCode, output } = await onPty(
      [...podman.command, '--runtime', runtimes[runtime], 'run', '-it', '--rm', ...runArgs(), image.name, 'sh'],
      'tty; echo typed-$((40+2)); exit 4\n',
      { env: podman.env, cwd: podman.dir },
    );
    expect(output).toMatch(/\/dev\/pts\/0/);
    expect(output).toMatch(/typed-42/);
    expect(exitCode).toBe(4);
  });
});
