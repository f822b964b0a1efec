/**
 * linux.seccomp is enforced: the filter src/seccomp compiles is installed in the
 * container's init (and in `husk exec`'d processes), before the capabilities are
 * dropped without noNewPrivileges, right before exec with it. Real containers,
 * the static testinit as their process.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle } from '../../helpers/rootfs.js';
import { ensureTestinit } from '../../helpers/testinit.js';
import type { LinuxSeccomp, Spec, State } from '../../../src/spec/types.js';

const { husk, bundles, newId } = useHuskSuite();

/** CAP_MKNOD, so that mknod-test succeeds unless the filter denies it. */
function withMknod(spec: Spec): void {
  const caps = spec.process!.capabilities!;
  for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_MKNOD'];
}

async function runWith(args: string[], seccomp: LinuxSeccomp, noNewPrivileges = true): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const bundle = await makeTestBundle({
    args,
    mutate: (spec: Spec) => {
      withMknod(spec);
      spec.linux!.seccomp = seccomp;
      spec.process!.noNewPrivileges = noNewPrivileges;
    },
  });
  bundles.push(bundle);
  const result = await husk.run(['run', '--bundle', bundle.dir, newId('seccomp')]);
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const denyMknod = (extra: Partial<LinuxSeccomp['syscalls'] extends (infer R)[] | undefined ? R : never> = {}): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mknod', 'mknodat'], action: 'SCMP_ACT_ERRNO', ...extra }],
});

/** What the child and a static testinit need, as a runtime's default profile allows it. */
const allowList = [
  // the child's sync socket: send/recv are sendto/recvfrom; a startContainer hook would need clone
  'sendto', 'recvfrom', 'clone', 'kill',
  'access', 'arch_prctl', 'brk', 'capget', 'capset', 'chdir', 'close', 'close_range', 'dup', 'dup2', 'dup3',
  'execve', 'exit', 'exit_group', 'faccessat', 'faccessat2', 'fcntl', 'fstat', 'futex', 'getcwd', 'getdents64',
  'getegid', 'geteuid', 'getgid', 'getpid', 'getppid', 'getrandom', 'gettid', 'getuid', 'ioctl', 'lseek', 'mmap',
  'mprotect', 'munmap', 'newfstatat', 'open', 'openat', 'prctl', 'pread64', 'prlimit64', 'read', 'readlink',
  'readlinkat', 'recvmsg', 'rseq', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'sendmsg', 'set_robust_list',
  'set_tid_address', 'setgid', 'setgroups', 'setresgid', 'setresuid', 'setsid', 'setuid', 'stat', 'statx', 'umask',
  'uname', 'wait4', 'write', 'writev',
];

describe('seccomp', () => {
  for (const noNewPrivileges of [true, false]) {
    describe(`with noNewPrivileges ${noNewPrivileges}`, () => {
      it('denies a syscall with EPERM while the rest works', async () => {
        const denied = await runWith(['mknod-test', '/dev'], denyMknod(), noNewPrivileges);
        expect(denied.stderr).toBe('');
        expect(denied.stdout.trim()).toBe('mknod EPERM');
        const status = await runWith(['status'], denyMknod(), noNewPrivileges);
        expect(status.exitCode).toBe(0);
        expect(status.stdout).toMatch(/^Seccomp:\s+2$/m);
        expect(status.stdout).toMatch(new RegExp(`^NoNewPrivs:\\s+${noNewPrivileges ? 1 : 0}$`, 'm'));
      });

      it('runs under a default-deny profile with an allow-list', async () => {
        const profile: LinuxSeccomp = {
          defaultAction: 'SCMP_ACT_ERRNO',
          architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
          syscalls: [{ names: allowList, action: 'SCMP_ACT_ALLOW' }],
        };
        const ok = await runWith(['echo', 'allowed'], profile, noNewPrivileges);
        expect(ok.stderr).toBe('');
        expect(ok.exitCode).toBe(0);
        expect(ok.stdout.trim()).toBe('allowed');
        // mknodat is not in the list: the default action
        expect((await runWith(['mknod-test', '/dev'], profile, noNewPrivileges)).stdout.trim()).toBe('mknod EPERM');
      });
    });
  }

  it('without a profile the same work succeeds (the tests above are the filter\'s doing)', async () => {
    const bundle = await makeTestBundle({ args: ['mknod-test', '/dev'], mutate: withMknod });
    bundles.push(bundle);
    const result = await husk.run(['run', '--bundle', bundle.dir, newId('seccomp')]);
    expect(String(result.stdout).trim().split('\n')[0]).toBe('mknod ok');
  });

  it('honours errnoRet and defaultErrnoRet', async () => {
    expect((await runWith(['mknod-test', '/dev'], denyMknod({ errnoRet: 38 }))).stdout.trim()).toBe('mknod ENOSYS');
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [{ names: allowList, action: 'SCMP_ACT_ALLOW' }],
    };
    expect((await runWith(['mknod-test', '/dev'], profile)).stdout.trim()).toBe('mknod ENOSYS');
  });

  it('compares arguments: opening for writing is denied, for reading allowed', async () => {
    // (flags & O_ACCMODE) == O_WRONLY, for open (flags: arg 1) and openat (arg 2)
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['openat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 2, value: 3, valueTwo: 1, op: 'SCMP_CMP_MASKED_EQ' }] },
        { names: ['open'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 3, valueTwo: 1, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    };
    expect((await runWith(['open-write', '/dev/null'], profile)).stdout.trim()).toBe('EACCES');
    const read = await runWith(['cat', '/proc/self/comm'], profile);
    expect(read.exitCode).toBe(0);
    expect(read.stdout.trim()).toBe('testinit');
  });

  it('SCMP_ACT_KILL_PROCESS and SCMP_ACT_KILL end the process with SIGSYS (exit 159)', async () => {
    const killed = await runWith(['mknod-test', '/dev'], denyMknod({ action: 'SCMP_ACT_KILL_PROCESS' }));
    expect(killed.exitCode).toBe(128 + 31);
    expect(killed.stdout).toBe('');
    expect((await runWith(['mknod-test', '/dev'], denyMknod({ action: 'SCMP_ACT_KILL' }))).exitCode).toBe(128 + 31);
  });

  it('a profile that kills the runtime\'s own setup fails create clearly, leaving nothing', async () => {
    // Without noNewPrivileges the filter goes in before the identity steps, and the child
    // still talks to the runtime (sendto): killing sendto kills the child before it is ready.
    const result = await runWith(['true'], { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['sendto'], action: 'SCMP_ACT_KILL_PROCESS' }] }, false);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('husk: set up the container: the child died before it was ready (killed by SIGSYS)');
    expect(String((await husk.run(['list', '-q'])).stdout).trim()).toBe('');
  });

  it("runc's -ENOSYS stub: a syscall newer than the profile knows gets ENOSYS, an older unlisted one the default", async () => {
    const profile: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: allowList, action: 'SCMP_ACT_ALLOW' }] };
    // 1000: above every syscall of the list (and of the kernel); 90 (chmod): below, and not listed
    expect((await runWith(['syscall', '1000'], profile)).stdout.trim()).toBe('ENOSYS');
    expect((await runWith(['syscall', '90'], profile)).stdout.trim()).toBe('EPERM');
    // a permissive default gets no stub: the kernel's own answer
    expect((await runWith(['syscall', '1000'], denyMknod())).stdout.trim()).toBe('ENOSYS');
  });

  it('refuses SCMP_ACT_NOTIFY without a listenerPath at create, naming it, and leaves nothing behind', async () => {
    const result = await runWith(['true'], denyMknod({ action: 'SCMP_ACT_NOTIFY' }));
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/^husk: .*linux\.seccomp\.listenerPath: SCMP_ACT_NOTIFY needs a listenerPath/);
    expect(String((await husk.run(['list', '-q'])).stdout).trim()).toBe('');
  });
  it('husk exec gets the container\'s filter too', async () => {
    for (const noNewPrivileges of [true, false]) {
      const bundle = await makeTestBundle({
        args: ['sleep', '300'],
        mutate: (spec: Spec) => {
          withMknod(spec);
          spec.linux!.seccomp = denyMknod();
          spec.process!.noNewPrivileges = noNewPrivileges;
        },
      });
      bundles.push(bundle);
      const id = newId('seccomp-exec');
      const run = await husk.detached(['run', '-d', '--bundle', bundle.dir, id]);
      expect(run.stderr).toBe('');
      const state = JSON.parse(String((await husk.run(['state', id])).stdout)) as State;
      expect(state.status).toBe('running');
      const exec = await husk.run(['exec', id, '/bin/testinit', 'mknod-test', '/dev']);
      expect(exec.stderr).toBe('');
      expect(String(exec.stdout).trim()).toBe('mknod EPERM');
      expect(String((await husk.run(['exec', id, '/bin/testinit', 'echo', 'hi'])).stdout).trim()).toBe('hi');
      await husk.run(['delete', '--force', id]);
    }
  });
});

describe('seccomp user notification (SCMP_ACT_NOTIFY, listenerPath)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A listener (testinit seccomp-listener) on a fresh socket: answers one notification with -answer. */
  async function listener(answer: number): Promise<{ socket: string; stateFile: string; done: ResultPromise }> {
    const dir = mkdtempSync(join(tmpdir(), 'husk-seccomp-agent-'));
    dirs.push(dir);
    const socket = join(dir, 'agent.sock');
    const stateFile = join(dir, 'state.json');
    const done = execa(ensureTestinit(), ['seccomp-listener', socket, stateFile, String(answer)], { reject: false, timeout: 60_000 });
    await new Promise<void>((resolve, reject) => {
      done.stdout!.once('data', () => resolve());
      done.once('exit', () => reject(new Error('the listener exited before it was ready')));
    });
    return { socket, stateFile, done };
  }

  const notifyMkdir = (socket: string): LinuxSeccomp => ({
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: socket,
    listenerMetadata: 'husk-test-metadata',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
  });
  const ENOMEDIUM = 123;

  for (const noNewPrivileges of [true, false]) {
    it(`sends the notify fd and the process state to the listener, which answers the container's syscall (noNewPrivileges ${noNewPrivileges})`, async () => {
      const agent = await listener(ENOMEDIUM);
      const bundle = await makeTestBundle({
        args: ['mkdir', '/tmp/notified'],
        mutate: (spec: Spec) => {
          spec.linux!.seccomp = notifyMkdir(agent.socket);
          spec.process!.noNewPrivileges = noNewPrivileges;
        },
      });
      bundles.push(bundle);
      const id = newId('notify');
      const result = await husk.run(['run', '--bundle', bundle.dir, id]);
      expect(String(result.stderr)).toBe('');
      expect(String(result.stdout).trim()).toBe('ENOMEDIUM'); // the listener's answer, not the kernel's
      const agentResult = await agent.done;
      expect(agentResult.exitCode).toBe(0);
      expect(String(agentResult.stdout)).toMatch(/^notified nr=(83|258)$/m); // mkdir or mkdirat
      const sent = JSON.parse(readFileSync(agent.stateFile, 'utf8')) as { ociVersion: string; fds: string[]; pid: number; metadata: string; state: State };
      expect(sent).toMatchObject({ fds: ['seccompFd'], metadata: 'husk-test-metadata', state: { id, status: 'creating', bundle: bundle.dir } });
      expect(sent.pid).toBe(sent.state.pid);
      expect(sent.ociVersion).toMatch(/^1\./);
      husk.expectGone(id);
    });
  }

  it('husk exec hands its own notify fd to the listener', async () => {
    const first = await listener(0); // takes the init's fd and leaves
    const bundle = await makeTestBundle({ args: ['sleep', '300'], mutate: (spec: Spec) => (spec.linux!.seccomp = notifyMkdir(first.socket)) });
    bundles.push(bundle);
    const id = newId('notify-exec');
    expect((await husk.detached(['run', '-d', '--bundle', bundle.dir, id])).stderr).toBe('');
    expect((await first.done).exitCode).toBe(0);
    rmSync(first.socket);
    // the same listenerPath, a new listener for the exec'd process
    const second = execa(ensureTestinit(), ['seccomp-listener', first.socket, first.stateFile, String(ENOMEDIUM)], { reject: false, timeout: 60_000 });
    await new Promise<void>((resolve) => second.stdout!.once('data', () => resolve()));
    const exec = await husk.run(['exec', id, '/bin/testinit', 'mkdir', '/tmp/x']);
    expect(String(exec.stderr)).toBe('');
    expect(String(exec.stdout).trim()).toBe('ENOMEDIUM');
    expect((await second).exitCode).toBe(0);
    const sent = JSON.parse(readFileSync(first.stateFile, 'utf8')) as { pid: number; state: State };
    expect(sent.state).toMatchObject({ id, status: 'running' });
    expect(sent.pid).not.toBe(sent.state.pid); // the exec'd process, not the init
    await husk.run(['delete', '--force', id]);
  });

  it('a listener that is not there fails create with the path, leaving nothing', async () => {
    const bundle = await makeTestBundle({ mutate: (spec: Spec) => (spec.linux!.seccomp = notifyMkdir('/nonexistent/agent.sock')) });
    bundles.push(bundle);
    const id = newId('notify');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(result.exitCode).not.toBe(0);
    expect(String(result.stderr)).toMatch(/^husk: send the seccomp notify fd to the listener \/nonexistent\/agent\.sock \(connect\): ENOENT/);
    husk.expectGone(id);
  });
});
