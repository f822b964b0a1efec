/**
 * The addon's system-call primitives, each tried for real in a throwaway Node
 * process (never in the test runner: unshare and setns would change the
 * runner's own thread). Sync fs calls in those scripts run on the main thread,
 * the one the primitives changed.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { readFileSync, rmdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { repoRoot } from '../../helpers/husk.js';

/** Runs `body` (an async function body) with `native`, `constants`, `fs` in scope; returns its JSON result. */
async function inThrowaway<T>(body: string): Promise<T> {
  const script = `
    import { native, constants } from ${JSON.stringify(`${repoRoot}/src/native/index.ts`)};
    import fs from 'node:fs';
    const attempt = (fn) => { try { return { ok: fn() ?? null }; } catch (e) { return { error: { code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, dest: e.dest, message: e.message } }; } };
    const result = await (async () => { ${body} })();
    process.stdout.write(JSON.stringify(result, (k, v) => typeof v === 'bigint' ? v.toString() : v));
  `;
  const { stdout } = await execa('node', ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot });
  return JSON.parse(stdout) as T;
}

interface Attempt {
  ok?: unknown;
  error?: { code: string; errno: number; syscall: string; path?: string; dest?: string; message: string };
}

describe('namespaces', () => {
  it('unshare(CLONE_NEWUTS) + sethostname change only the calling thread, not the host', async () => {
    const out = await inThrowaway<{ before: string; after: string }>(`
      const before = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
      native.unshare(constants.CLONE_NEWUTS);
      native.sethostname('primitive-test');
      return { before, after: fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim() };
    `);
    expect(out.after).toBe('primitive-test');
    expect(out.before).toBe(hostname());
    expect(hostname()).not.toBe('primitive-test');
  });

  it('unshare(CLONE_NEWUSER) fails with EINVAL in a multithreaded process, as documented', async () => {
    const out = await inThrowaway<Attempt>(`return attempt(() => native.unshare(constants.CLONE_NEWUSER));`);
    expect(out.error).toMatchObject({ code: 'EINVAL', errno: -22, syscall: 'unshare' });
    expect(out.error!.message).toBe('EINVAL: Invalid argument, unshare');
  });

  it('setns joins a namespace from an fd, and fails with EINVAL for a bad nstype', async () => {
    const out = await inThrowaway<{ joined: string; bad: Attempt }>(`
      const fd = fs.openSync('/proc/thread-self/ns/uts', 'r'); // the host's, before leaving it
      native.unshare(constants.CLONE_NEWUTS);
      native.sethostname('elsewhere');
      native.setns(fd, constants.CLONE_NEWUTS);
      const joined = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
      const bad = attempt(() => native.setns(fd, constants.CLONE_NEWNET));
      return { joined, bad };
    `);
    expect(out.joined).toBe(hostname());
    expect(out.bad.error).toMatchObject({ code: 'EINVAL', syscall: 'setns' });
  });
});

describe('mounts', () => {
  it('mount and umount2 in a private mount namespace; errors name the path', async () => {
    const out = await inThrowaway<{ mounted: boolean; unmounted: boolean; missing: Attempt; notMount: Attempt }>(`
      native.unshare(constants.CLONE_NEWNS);
      native.mount(null, '/', null, constants.MS_REC | constants.MS_PRIVATE);
      const dir = fs.mkdtempSync('/tmp/husk-prim-');
      const isMounted = () => fs.readFileSync('/proc/thread-self/mountinfo', 'utf8').split('\\n').some((l) => l.split(' ')[4] === dir);
      native.mount('tmpfs', dir, 'tmpfs', constants.MS_NOSUID, 'size=1m');
      const mounted = isMounted();
      native.umount2(dir, constants.MNT_DETACH);
      const unmounted = !isMounted();
      fs.rmdirSync(dir);
      return {
        mounted, unmounted,
        missing: attempt(() => native.mount('tmpfs', '/nonexistent/husk', 'tmpfs')),
        notMount: attempt(() => native.umount2('/tmp')),
      };
    `);
    expect(out.mounted).toBe(true);
    expect(out.unmounted).toBe(true);
    expect(out.missing.error).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'mount', path: 'tmpfs', dest: '/nonexistent/husk' });
    expect(out.missing.error!.message).toBe("ENOENT: No such file or directory, mount 'tmpfs' -> '/nonexistent/husk'");
    expect(out.notMount.error).toMatchObject({ code: 'EINVAL', syscall: 'umount2', path: '/tmp' });
    // the host never saw it
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain('husk-prim-');
  });

  it('pivotRoot and chroot fail with the errno and both paths', async () => {
    const out = await inThrowaway<{ pivot: Attempt; chroot: Attempt }>(`
      return {
        pivot: attempt(() => native.pivotRoot('/nonexistent', '/nonexistent/old')),
        chroot: attempt(() => native.chroot('/nonexistent')),
      };
    `);
    expect(out.pivot.error).toMatchObject({ code: 'ENOENT', syscall: 'pivot_root', path: '/nonexistent', dest: '/nonexistent/old' });
    expect(out.chroot.error).toMatchObject({ code: 'ENOENT', syscall: 'chroot', path: '/nonexistent' });
  });

  it('pivotRoot swaps the root of a private mount namespace', async () => {
    const out = await inThrowaway<{ root: string[]; dir: string }>(`
      native.unshare(constants.CLONE_NEWNS);
      native.mount(null, '/', null, constants.MS_REC | constants.MS_PRIVATE);
      const dir = fs.mkdtempSync('/tmp/husk-pivot-');
      native.mount('tmpfs', dir, 'tmpfs');
      fs.mkdirSync(dir + '/only-here');
      process.chdir(dir);
      native.pivotRoot('.', '.');
      native.umount2('.', constants.MNT_DETACH);
      native.chroot('.');
      return { root: fs.readdirSync('/'), dir };
    `);
    expect(out.root).toEqual(['only-here']);
    // The tmpfs lived only in the throwaway's mount namespace; its mount point is ours to remove.
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(out.dir);
    rmdirSync(out.dir);
  });

  it('sethostname refuses a name longer than the kernel allows', async () => {
    const out = await inThrowaway<Attempt>(`native.unshare(constants.CLONE_NEWUTS); return attempt(() => native.sethostname('x'.repeat(100)));`);
    expect(out.error).toMatchObject({ code: 'EINVAL', syscall: 'sethostname' });
  });
});

describe('processes and fds', () => {
  it('pidfdOpen + pidfdSendSignal signal exactly that process; a dead pid gives ESRCH', async () => {
    const out = await inThrowaway<{ signal: string | null; gone: Attempt }>(`
      const { spawn } = await import('node:child_process');
      const child = spawn('sleep', ['30']);
      const fd = native.pidfdOpen(child.pid);
      native.pidfdSendSignal(fd, 15);
      const signal = await new Promise((r) => child.on('exit', (code, sig) => r(sig)));
      return { signal, gone: attempt(() => native.pidfdOpen(2 ** 22 - 1)) };
    `);
    expect(out.signal).toBe('SIGTERM');
    expect(out.gone.error).toMatchObject({ code: 'ESRCH', syscall: 'pidfd_open', path: String(2 ** 22 - 1) });
  });

  it('closeRange closes the fds asked for', async () => {
    const out = await inThrowaway<{ after: Attempt }>(`
      const fd = fs.openSync('/dev/null', 'r');
      native.closeRange(fd, fd);
      return { after: attempt(() => fs.fstatSync(fd)) };
    `);
    expect(out.after.error).toMatchObject({ code: 'EBADF' });
  });

  it("capGet reads a process's sets; capSet changes the calling thread and is refused for others", async () => {
    const out = await inThrowaway<{ eff: string; procEff: string; after: string; other: Attempt }>(`
      const sets = native.capGet(0);
      const procEff = fs.readFileSync('/proc/thread-self/status', 'utf8').match(/CapEff:\\t(\\w+)/)[1];
      const keep = 1n << 21n; // CAP_SYS_ADMIN only
      native.capSet(0, { effective: keep, permitted: sets.permitted, inheritable: 0n });
      const after = fs.readFileSync('/proc/thread-self/status', 'utf8').match(/CapEff:\\t(\\w+)/)[1];
      return { eff: sets.effective.toString(16), procEff, after, other: attempt(() => native.capSet(1, sets)) };
    `);
    expect(BigInt(`0x${out.procEff}`).toString(16)).toBe(out.eff);
    expect(out.after).toBe((1n << 21n).toString(16).padStart(16, '0'));
    expect(out.other.error).toMatchObject({ code: 'EPERM', syscall: 'capset', path: '1' });
  });

  it('mkfifo and flock', async () => {
    const out = await inThrowaway<{ fifo: boolean; first: boolean; second: boolean; again: Attempt }>(`
      const dir = fs.mkdtempSync('/tmp/husk-fifo-');
      native.mkfifo(dir + '/f', 0o600);
      const fifo = fs.statSync(dir + '/f').isFIFO();
      const again = attempt(() => native.mkfifo(dir + '/f', 0o600));
      const a = fs.openSync(dir, 'r'), b = fs.openSync(dir, 'r');
      const first = native.flock(a, constants.LOCK_EX | constants.LOCK_NB);
      const second = native.flock(b, constants.LOCK_EX | constants.LOCK_NB);
      fs.rmSync(dir, { recursive: true });
      return { fifo, first, second, again };
    `);
    expect(out).toMatchObject({ fifo: true, first: true, second: false });
    expect(out.again.error).toMatchObject({ code: 'EEXIST', syscall: 'mkfifo' });
  });
});
