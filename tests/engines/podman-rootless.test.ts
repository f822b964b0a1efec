/**
 * podman rootless (`podman --runtime husk run` as a plain user, as podman is used
 * on CI runners and shared machines), with husk and with runc, the reference, in
 * the same run: every check runs once per runtime and must pass for both.
 *
 * The user is real (tests/helpers/rootless-user.ts: useradd, a home, an
 * XDG_RUNTIME_DIR, subordinate id ranges); podman keeps its storage under that
 * home and runs husk inside its own user namespace (uid 0 there is the user),
 * with no user namespace in the config, no cgroupsPath (rootless podman on this
 * hybrid host runs without cgroups) and no --root (husk's state goes to
 * $XDG_RUNTIME_DIR/husk). The busybox image is built here and `podman load`ed,
 * into podman's default rootless storage (vfs here) and into a second one on
 * the overlay driver, whose rootfs is an overlay podman mounted in its namespace.
 */
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podmanUlimits, runtimes, type RuntimeName } from '../helpers/engines.js';
import { buildBusyboxImage, type BusyboxImage } from '../helpers/images.js';
import { createTestUser, type TestUser } from '../helpers/rootless-user.js';

let user: TestUser;
let image: BusyboxImage;
let imageDir: string;
/** A directory of the user's, bound into containers. */
let shared: string;

/** The user's podman: default rootless storage (~/.local/share/containers), file events, cgroupfs. */
const podman = (args: string[]) => user.run(['podman', '--events-backend', 'file', '--cgroup-manager', 'cgroupfs', ...args], { timeout: 120_000 });
/** The same user's podman on the overlay driver (its own mounts, in its user namespace), storage in a second root. */
const podmanOverlay = (args: string[]) =>
  podman(['--root', join(user.home, 'overlay-storage'), '--runroot', join(user.runtimeDir, 'overlay-run'), '--storage-driver', 'overlay', ...args]);
const runtimePath = (runtime: RuntimeName): string => (runtime === 'husk' ? user.cli : runtimes.runc);

beforeAll(async () => {
  user = await createTestUser();
  imageDir = mkdtempSync('/tmp/husk-podman-rootless-');
  image = buildBusyboxImage(imageDir);
  for (const path of [imageDir, image.dockerArchive]) chmodSync(path, 0o755);
  for (const engine of [podman, podmanOverlay]) {
    const loaded = await engine(['load', '-q', '-i', image.dockerArchive]);
    expect(loaded.exitCode, String(loaded.stderr)).toBe(0);
  }
  shared = join(user.home, 'shared');
  const made = await user.run(['mkdir', shared]);
  expect(made.exitCode).toBe(0);
}, 180_000);

afterAll(async () => {
  if (user !== undefined) {
    // podman's storage holds files of the user's range: its own reset removes them from its namespace.
    for (const engine of [podmanOverlay, podman]) {
      await engine(['rm', '--all', '--force', '--time', '0']);
      await engine(['system', 'reset', '--force']);
    }
    await user.remove();
  }
  if (imageDir !== undefined) rmSync(imageDir, { recursive: true, force: true });
}, 180_000);

describe.each(['runc', 'husk'] as RuntimeName[])('podman rootless with %s', (runtime) => {
  const p = (args: string[]) => podman(['--runtime', runtimePath(runtime), ...args]);
  const runArgs = ['--network', 'none', ...podmanUlimits];

  it('run --rm returns the exit code of the container', async () => {
    const r = await p(['run', '--rm', ...runArgs, image.name, 'sh', '-c', 'exit 3']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(3);
  });

  it("runs as root of podman's user namespace: the user outside, its range beyond", async () => {
    const r = await p(['run', '--rm', ...runArgs, image.name, 'sh', '-c', 'id -u; head -n 2 /proc/self/uid_map']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const [uid, first, second] = String(r.stdout).split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(uid).toBe('0');
    expect(first).toBe(`0 ${user.uid} 1`);
    expect(second).toMatch(/^1 \d+ \d+$/);
  });

  it("writes a bound directory as the user (root inside) and as the user's range (uid 1000 inside)", async () => {
    const r = await p(['run', '--rm', ...runArgs, '-v', `${shared}:/shared`, image.name, 'sh', '-c', `echo root > /shared/root-${runtime}; mkdir /shared/app-${runtime}; chown 1000:1000 /shared/app-${runtime}`]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(lstatSync(join(shared, `root-${runtime}`)).uid).toBe(user.uid);
    const app = lstatSync(join(shared, `app-${runtime}`));
    expect(app.uid).not.toBe(user.uid);
    expect(app.uid).toBeGreaterThanOrEqual(100_000); // a subordinate id
  });

  it("runs on podman's overlay storage: the rootfs is podman's overlay, written copy-on-write", async () => {
    const r = await podmanOverlay(['--runtime', runtimePath(runtime), 'run', '--rm', ...runArgs, image.name, 'sh', '-c', 'grep -c " / / .* - overlay " /proc/self/mountinfo; echo ok > /bin/new && cat /bin/new']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toBe('1\nok');
  });

  it('run -d, exec and rm -f', async () => {
    const name = `detached-${runtime}`;
    const started = await p(['run', '-d', '--name', name, ...runArgs, image.name, 'sleep', '1000']);
    expect(started.stderr).toBe('');
    expect(started.exitCode).toBe(0);
    // The container is the runtime's: podman drove this one, not its default.
    const used = await p(['inspect', '--format', '{{.OCIRuntime}}', name]);
    expect(String(used.stdout).trim()).toBe(runtimePath(runtime));
    const exec = await p(['exec', name, 'sh', '-c', 'echo in-$(hostname); exit 4']);
    expect(String(exec.stdout).trim()).toBe(`in-${String(started.stdout).trim().slice(0, 12)}`);
    expect(exec.exitCode).toBe(4);
    const removed = await p(['rm', '--force', '--time', '0', name]);
    expect(removed.exitCode).toBe(0);
  });

  it('leaves nothing in the runtime dir', async () => {
    const ps = await p(['ps', '--all', '--quiet']);
    expect(String(ps.stdout).trim()).toBe('');
    // husk's state root without --root, rootless: $XDG_RUNTIME_DIR/husk (runc: $XDG_RUNTIME_DIR/runc).
    const stateRoot = join(user.runtimeDir, runtime === 'husk' ? 'husk' : 'runc');
    if (existsSync(stateRoot)) expect(readdirSync(stateRoot)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(user.home);
  });
});
