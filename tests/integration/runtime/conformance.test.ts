/**
 * config.md's rule for every property: applied, or "the runtime MUST generate an
 * error and a new container MUST NOT be created". Each property here is either
 * checked applied (from inside the container and from the host) or refused with
 * one line naming it, leaving nothing behind. Also: ociVersion 1.3 (runc's newest
 * `runc spec` runs unchanged), systemd's NOTIFY_SOCKET and LISTEN_FDS passed
 * through as runc does, and an exec failure after the start gate reported.
 */
import { execa } from 'execa';
import { spawn as spawnProcess } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, testCgroupParent, useHuskSuite } from '../../helpers/husk.js';
import { makeHostToolsBundle, makeTestBundle, type TestBundle } from '../../helpers/rootfs.js';
import type { Spec } from '../../../src/spec/types.js';
import { detectCgroups } from '../../../src/cgroups/detect.js';

const { husk, bundles, newId } = useHuskSuite();

async function bundleWith(args: string[], mutate?: (spec: Spec) => void, files?: Record<string, string>): Promise<TestBundle> {
  const bundle = await makeTestBundle({ args, ...(mutate && { mutate }), ...(files && { files }) });
  bundles.push(bundle);
  return bundle;
}

async function hostToolsBundle(args: string[], mutate?: (spec: Spec) => void): Promise<TestBundle> {
  const bundle = await makeHostToolsBundle({ args, ...(mutate && { mutate }) });
  bundles.push(bundle);
  return bundle;
}

/** `husk run` of a bundle that must be refused: exit 1, one line naming the property, nothing left. */
async function expectRefused(mutate: (spec: Spec) => void, property: string): Promise<string> {
  const bundle = await bundleWith(['true'], mutate);
  const id = newId('refused');
  const result = await husk.run(['run', '--bundle', bundle.dir, id]);
  expect(result.exitCode).toBe(1);
  const stderr = String(result.stderr);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toContain(`husk: ${property}: cannot be applied: `);
  husk.expectGone(id);
  return stderr;
}

describe('ociVersion', () => {
  it("runs the config of the newest runc's `runc spec` (ociVersion 1.3.0) unchanged", async () => {
    const dir = join('/tmp', `husk-runc13-${process.pid}`);
    mkdirSync(join(dir, 'rootfs', 'bin'), { recursive: true });
    try {
      copyFileSync('/usr/bin/busybox', join(dir, 'rootfs', 'bin', 'busybox'));
      chmodSync(join(dir, 'rootfs', 'bin', 'busybox'), 0o755);
      for (const tool of ['sh', 'hostname', 'cat']) symlinkSync('busybox', join(dir, 'rootfs', 'bin', tool));
      copyFileSync(new URL('../../unit/spec/fixtures/runc-1.3-spec.json', import.meta.url), join(dir, 'config.json'));
      // Its process is `sh` on a terminal: husk run attaches the pty; the shell reads our input.
      const result = await husk.run(['run', '--bundle', dir, newId('runc13')], {
        input: 'echo "host=$(hostname) $(cat /proc/self/status | grep NoNewPrivs)"; exit 7\n',
      });
      expect(String(result.stdout)).toMatch(/host=runc NoNewPrivs:\s+1/);
      expect(result.exitCode).toBe(7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a major version it does not know, and a newer minor, before creating anything', async () => {
    for (const [version, rule] of [
      ['2.0.0', 'unsupported major version 2'],
      ['1.4.0', 'unsupported version "1.4.0"'],
    ] as const) {
      const bundle = await bundleWith(['true'], (spec) => (spec.ociVersion = version));
      const id = newId('version');
      const result = await husk.run(['run', '--bundle', bundle.dir, id]);
      expect(result.exitCode).toBe(1);
      expect(String(result.stderr)).toContain(`ociVersion: ${rule}`);
      husk.expectGone(id);
    }
  });
});

describe('refused where the host cannot apply them', () => {
  it('process.apparmorProfile (no AppArmor here, and husk applies none)', async () => {
    await expectRefused((spec) => (spec.process!.apparmorProfile = 'docker-default'), 'process.apparmorProfile');
  });

  it('process.selinuxLabel and linux.mountLabel', async () => {
    await expectRefused((spec) => (spec.process!.selinuxLabel = 'system_u:system_r:container_t:s0'), 'process.selinuxLabel');
    await expectRefused((spec) => (spec.linux!.mountLabel = 'system_u:object_r:container_file_t:s0'), 'linux.mountLabel');
  });

  it('linux.intelRdt', async () => {
    await expectRefused((spec) => (spec.linux!.intelRdt = { closID: 'guaranteed' }), 'linux.intelRdt');
  });

  it('linux.resources.network without net_cls / net_prio hierarchies', async () => {
    const layout = detectCgroups();
    expect(layout.v1Mounts['net_cls'], 'this host mounts no net_cls hierarchy').toBeUndefined();
    await expectRefused((spec) => (spec.linux!.resources = { network: { classID: 0x100001 } }), 'linux.resources.network.classID');
    await expectRefused((spec) => (spec.linux!.resources = { network: { priorities: [{ name: 'eth0', priority: 5 }] } }), 'linux.resources.network.priorities');
  });

  it('linux.resources.rdma', async () => {
    await expectRefused((spec) => (spec.linux!.resources = { rdma: { mlx5_1: { hcaHandles: 3 } } }), 'linux.resources.rdma');
  });

  it('exec --process with an AppArmor profile', async () => {
    const bundle = await bundleWith(['sleep', '300']);
    const id = newId('exec-label');
    expect((await husk.detached(['run', '-d', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    const processFile = join(bundle.dir, 'process.json');
    writeFileSync(processFile, JSON.stringify({ args: ['/bin/testinit', 'true'], cwd: '/', user: { uid: 0, gid: 0 }, apparmorProfile: 'unconfined-x' }));
    const result = await husk.run(['exec', '--process', processFile, id]);
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr)).toContain('apparmorProfile: cannot be applied');
    await husk.run(['delete', '--force', id]);
  });
});

describe('memory: kernel and kernelTCP (cgroup v1 memory on this host)', () => {
  it('warns that linux.resources.memory.kernel is ignored, as runc does, and runs', async () => {
    const bundle = await bundleWith(['true'], (spec) => (spec.linux!.resources = { memory: { kernel: 64 * 1024 * 1024 } }));
    const result = await husk.run(['run', '--bundle', bundle.dir, newId('kmem')]);
    expect(result.exitCode).toBe(0);
    expect(String(result.stderr)).toContain('warning: linux.resources.memory.kernel: ignored');
  });

  it('applies memory.kernelTCP to memory.kmem.tcp.limit_in_bytes, seen inside and from the host', async () => {
    const layout = detectCgroups();
    expect(layout.v1Mounts['memory'], 'the memory controller is on cgroup v1 here').toBeDefined();
    const limit = 8 * 1024 * 1024;
    const bundle = await bundleWith(['cat', '/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes'], (spec) => {
      spec.linux!.resources = { memory: { kernelTCP: limit } };
    });
    const id = newId('ktcp');
    expect((await husk.detached(['create', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    const pid = (await husk.state(id)).pid!;
    const memoryCgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /:memory:/.test(l))!.split(':')[2]!;
    expect(readFileSync(join(layout.v1Mounts['memory']!, memoryCgroup, 'memory.kmem.tcp.limit_in_bytes'), 'utf8').trim()).toBe(String(limit));
    await husk.run(['delete', '--force', id]);
    const inside = await husk.run(['run', '--bundle', bundle.dir, newId('ktcp-in')]);
    expect(String(inside.stdout).trim()).toBe(String(limit));
  });
});

describe('an exec failure after the start gate', () => {
  it('E2BIG from a huge environment is reported on stderr with the errno, exit 127', async () => {
    // One string longer than MAX_ARG_STRLEN (32 pages): execve gives E2BIG; create cannot see it coming.
    const bundle = await bundleWith(['true'], (spec) => spec.process!.env!.push(`HUGE=${'x'.repeat(200 * 1024)}`));
    const result = await husk.run(['run', '--bundle', bundle.dir, newId('e2big')]);
    expect(result.exitCode).toBe(127);
    expect(String(result.stderr)).toContain('husk: exec /bin/testinit: E2BIG (Argument list too long)');
  });

  it('ENOEXEC from a file that is no program', async () => {
    const bundle = await bundleWith(['true'], (spec) => (spec.process!.args = ['/bin/not-a-program']), { 'bin/not-a-program': 'just text\n' });
    chmodSync(join(bundle.rootfs, 'bin', 'not-a-program'), 0o755);
    const result = await husk.run(['run', '--bundle', bundle.dir, newId('enoexec')]);
    expect(result.exitCode).toBe(127);
    expect(String(result.stderr)).toContain('husk: exec /bin/not-a-program: ENOEXEC (Exec format error)');
  });
});

/**
 * husk with extra environment, for verbs that leave a container running: its stdio
 * are files (a pipe would stay open in the container), read once husk has exited.
 */
async function huskWithEnv(args: string[], env: Record<string, string>): Promise<{ exitCode: number; stderr: string }> {
  const errFile = join(husk.root, `.env-${process.hrtime.bigint()}.stderr`);
  const err = openSync(errFile, 'w');
  const child = spawnProcess('node', [cliPath, '--root', husk.root, '--cgroup-parent', testCgroupParent, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', err, err],
  });
  closeSync(err);
  const exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 128)));
  const stderr = readFileSync(errFile, 'utf8');
  rmSync(errFile);
  return { exitCode, stderr };
}

/** A systemd stand-in: a datagram socket that records what it receives and closes BARRIER fds (sd_notify_barrier). */
async function notifyListener(path: string): Promise<{ messages: () => string[]; stop: () => Promise<void> }> {
  const child = spawnProcess('python3', ['-c', `
import socket, sys, os, array
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
print('ready', flush=True)
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(4))
    for level, kind, data in anc:
        for fd in array.array('i', data[:4]): os.close(fd)
    print('msg ' + msg.decode().strip(), flush=True)
`, path]);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => output.includes('ready') && resolve());
    child.on('exit', () => reject(new Error('the notify listener died')));
  });
  return {
    messages: () => output.split('\n').filter((l) => l.startsWith('msg ')).map((l) => l.slice(4)),
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

describe('NOTIFY_SOCKET and LISTEN_FDS (systemd), as runc passes them', () => {
  it('run -d relays the container\'s READY to the caller\'s NOTIFY_SOCKET with MAINPID, then returns', async () => {
    const socket = join('/tmp', `husk-notify-${process.pid}.sock`);
    const listener = await notifyListener(socket);
    try {
      const send = 'import socket, os; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"STATUS=starting\\nREADY=1", os.environ["NOTIFY_SOCKET"])';
      const bundle = await hostToolsBundle(['/bin/sh', '-c', `echo "$NOTIFY_SOCKET" > /dev/shm/seen; /usr/bin/python3 -c '${send}'; exec sleep 300`]);
      const id = newId('notify');
      const result = await huskWithEnv(['run', '-d', '--bundle', bundle.dir, id], { NOTIFY_SOCKET: socket });
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      const pid = (await husk.state(id)).pid!;
      // run -d returned after the relay: the messages are there already.
      expect(listener.messages()).toEqual(['READY=1', `MAINPID=${pid}`, 'BARRIER=1']);
      // Inside: the socket's directory, read-only, at runc's path.
      // husk exec starts from the config's process, as runc exec: not the init's NOTIFY_SOCKET.
      const inside = await husk.run(['exec', id, '/bin/sh', '-c', 'cat /dev/shm/seen; echo "exec=${NOTIFY_SOCKET:-none}"; grep " /run/notify " /proc/self/mounts']);
      expect(String(inside.stdout)).toMatch(/^\/run\/notify\/notify\.sock\nexec=none\n\S+ \/run\/notify \S+ ro,/);
      await husk.run(['delete', '--force', id]);
      husk.expectGone(id);
    } finally {
      await listener.stop();
      rmSync(socket, { force: true });
    }
  });

  it('create + start: start relays READY when the container says it', async () => {
    const socket = join('/tmp', `husk-notify2-${process.pid}.sock`);
    const listener = await notifyListener(socket);
    try {
      const send = 'import socket, os; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])';
      const bundle = await hostToolsBundle(['/bin/sh', '-c', `sleep 0.2; /usr/bin/python3 -c '${send}'; exec sleep 300`]);
      const id = newId('notify2');
      const env = { NOTIFY_SOCKET: socket };
      const create = await huskWithEnv(['create', '--bundle', bundle.dir, id], env);
      expect(create).toEqual({ exitCode: 0, stderr: '' });
      expect(listener.messages()).toEqual([]);
      const start = await huskWithEnv(['start', id], env);
      expect(start).toEqual({ exitCode: 0, stderr: '' });
      expect(listener.messages()).toEqual(['READY=1', `MAINPID=${(await husk.state(id)).pid}`, 'BARRIER=1']);
      await husk.run(['delete', '--force', id]);
    } finally {
      await listener.stop();
      rmSync(socket, { force: true });
    }
  });

  it('LISTEN_FDS: the activation fds stay open for the container, with LISTEN_FDS and LISTEN_PID=1', async () => {
    const bundle = await hostToolsBundle(['/bin/sh', '-c', 'echo "fds=$LISTEN_FDS pid=$LISTEN_PID"; cat <&3; cat <&4']);
    const one = join(bundle.dir, 'listen-1');
    const two = join(bundle.dir, 'listen-2');
    writeFileSync(one, 'first-socket\n');
    writeFileSync(two, 'second-socket\n');
    // As systemd does: LISTEN_PID is the pid that execs husk.
    const command = `LISTEN_FDS=2 LISTEN_PID=$$ exec node ${cliPath} --root ${husk.root} --cgroup-parent ${testCgroupParent} run --bundle ${bundle.dir} ${newId('listen')} 3<${one} 4<${two}`;
    const result = await execa('sh', ['-c', command], { reject: false, timeout: 60_000 });
    expect(result.stderr).toBe('');
    expect(String(result.stdout).trim().split('\n')).toEqual(['fds=2 pid=1', 'first-socket', 'second-socket']);
  });
});

/** Runs a container whose process prints, then waits: `inspect(pid, stdout)` checks it from the host meanwhile. */
async function whileRunning(bundle: TestBundle, inspect: (pid: number, stdout: string) => Promise<void> | void): Promise<void> {
  const id = newId('live');
  expect((await husk.detached(['create', '--bundle', bundle.dir, id])).exitCode).toBe(0);
  try {
    const pid = (await husk.state(id)).pid!;
    await inspect(pid, '');
  } finally {
    await husk.run(['delete', '--force', id]);
  }
}

/** Field `n` (1-based, as proc(5) numbers them) of /proc/<pid>/stat. */
function statField(pid: number, n: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[n - 3]!;
}

describe('process attributes, applied before exec (seen inside and from the host)', () => {
  it('process.scheduler: sched_setattr with the policy and nice', async () => {
    const bundle = await hostToolsBundle(['/bin/sh', '-c', 'chrt -p $$; cut -d" " -f19 /proc/self/stat'], (spec) => {
      spec.process!.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
    });
    const inside = await husk.run(['run', '--bundle', bundle.dir, newId('sched')]);
    expect(inside.stderr).toBe('');
    expect(String(inside.stdout)).toMatch(/scheduling policy: SCHED_BATCH\n[\s\S]*^7$/m);
    await whileRunning(bundle, (pid) => {
      // The init waits at the start gate, its attributes already set: policy (field 41) 3 = SCHED_BATCH, nice (19).
      expect([statField(pid, 41), statField(pid, 19)]).toEqual(['3', '7']);
    });
  });

  it('process.scheduler: SCHED_ISO, which Linux never had, is refused', async () => {
    await expectRefused((spec) => (spec.process!.scheduler = { policy: 'SCHED_ISO' }), 'process.scheduler.policy');
  });

  it('process.ioPriority: ioprio_set', async () => {
    const bundle = await hostToolsBundle(['/bin/sh', '-c', 'ionice -p $$'], (spec) => {
      spec.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
    });
    const inside = await husk.run(['run', '--bundle', bundle.dir, newId('ioprio')]);
    expect(String(inside.stdout).trim()).toBe('best-effort: prio 6');
    await whileRunning(bundle, async (pid) => {
      expect(String((await execa('ionice', ['-p', String(pid)])).stdout).trim()).toBe('best-effort: prio 6');
    });
  });

  it('linux.personality LINUX32: uname says i686, /proc/<pid>/personality 00000008', async () => {
    const bundle = await hostToolsBundle(['/bin/sh', '-c', 'uname -m; cat /proc/self/personality'], (spec) => {
      spec.linux!.personality = { domain: 'LINUX32' };
    });
    const inside = await husk.run(['run', '--bundle', bundle.dir, newId('persona')]);
    expect(String(inside.stdout).trim().split('\n')).toEqual(['i686', '00000008']);
    await whileRunning(bundle, (pid) => expect(readFileSync(`/proc/${pid}/personality`, 'utf8').trim()).toBe('00000008'));
  });

  it('linux.personality flags, which runtime-spec does not define yet, are refused', async () => {
    await expectRefused((spec) => (spec.linux!.personality = { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] }), 'linux.personality.flags');
  });

  it('linux.memoryPolicy (runtime-spec 1.3): set_mempolicy, seen in numa_maps', async () => {
    const bundle = await hostToolsBundle(['/bin/sh', '-c', 'grep -c " bind:0 " /proc/self/numa_maps'], (spec) => {
      spec.ociVersion = '1.3.0';
      spec.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' };
    });
    const inside = await husk.run(['run', '--bundle', bundle.dir, newId('mempolicy')]);
    expect(inside.stderr).toBe('');
    expect(Number(String(inside.stdout).trim())).toBeGreaterThan(0);
    await whileRunning(bundle, (pid) => expect(readFileSync(`/proc/${pid}/numa_maps`, 'utf8')).toMatch(/ bind:0 /));
  });

  it('linux.memoryPolicy on a node this host does not have: the step and the errno, nothing left', async () => {
    const bundle = await bundleWith(['true'], (spec) => (spec.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '5' }));
    const id = newId('mempolicy-bad');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr)).toContain('(linux.memoryPolicy): EINVAL');
    husk.expectGone(id);
  });

  it('process.execCPUAffinity: husk exec ends on the final CPUs', async () => {
    const bundle = await hostToolsBundle(['/bin/sh', '-c', 'exec sleep 300']);
    const id = newId('affinity');
    expect((await husk.detached(['run', '-d', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    try {
      const processFile = join(bundle.dir, 'affinity.json');
      const pidFile = join(bundle.dir, 'affinity.pid');
      writeFileSync(processFile, JSON.stringify({
        args: ['/bin/sh', '-c', 'grep Cpus_allowed_list /proc/self/status; sleep 0.5'],
        cwd: '/',
        user: { uid: 0, gid: 0 },
        env: ['PATH=/usr/bin:/bin'],
        execCPUAffinity: { initial: '0', final: '1' },
      }));
      const exec = husk.run(['exec', '--pid-file', pidFile, '--process', processFile, id]);
      const result = await exec;
      expect(result.stderr).toBe('');
      expect(String(result.stdout)).toMatch(/Cpus_allowed_list:\s+1$/m);
      const status = (await husk.run(['exec', id, '/bin/sh', '-c', 'grep Cpus_allowed_list /proc/self/status'])).stdout;
      expect(String(status), 'without execCPUAffinity the affinity is left alone').toMatch(/Cpus_allowed_list:\s+0-1$/m);
    } finally {
      await husk.run(['delete', '--force', id]);
    }
  });

  it('linux.timeOffsets: a time namespace with the clocks offset, for the init and husk exec', async () => {
    const year = 365 * 24 * 3600;
    const bundle = await hostToolsBundle(['/bin/sh', '-c', 'cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime; exec sleep 300'], (spec) => {
      spec.linux!.namespaces!.push({ type: 'time' });
      spec.linux!.timeOffsets = { monotonic: { secs: year, nanosecs: 0 }, boottime: { secs: 3600, nanosecs: 5 } };
    });
    const id = newId('timens');
    const run = await husk.detached(['run', '-d', '--bundle', bundle.dir, id]);
    expect(run.stderr).toBe('');
    try {
      const pid = (await husk.state(id)).pid!;
      const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split('.')[0]);
      expect(readFileSync(`/proc/${pid}/timens_offsets`, 'utf8')).toMatch(new RegExp(`^monotonic\\s+${year}\\s+0\\nboottime\\s+3600\\s+5\\n$`));
      expect(readlinkSyncSafe(`/proc/${pid}/ns/time`)).not.toBe(readlinkSyncSafe('/proc/self/ns/time'));
      const inside = String((await husk.run(['exec', id, '/bin/sh', '-c', 'cut -d. -f1 /proc/uptime'])).stdout).trim();
      expect(Number(inside) - hostUptime).toBeGreaterThanOrEqual(3600 - 5);
      expect(Number(inside) - hostUptime).toBeLessThan(3600 + 60);
    } finally {
      await husk.run(['delete', '--force', id]);
    }
  });
});

function readlinkSyncSafe(path: string): string {
  return readlinkSync(path);
}

describe('the terminal: consoleSize and /dev/console', () => {
  it('the pty has process.consoleSize before exec, and is bound over /dev/console', async () => {
    const bundle = await hostToolsBundle(
      ['/bin/sh', '-c', 'stty size; [ "$(stat -L -c %t:%T /dev/console)" = "$(stat -L -c %t:%T /proc/self/fd/0)" ] && echo console-is-my-pty; read line'],
      (spec) => {
        spec.process!.terminal = true;
        spec.process!.consoleSize = { height: 37, width: 123 };
      },
    );
    const id = newId('console');
    const run = husk.run(['run', '--bundle', bundle.dir, id], { stdin: 'pipe' });
    let output = '';
    run.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    for (let i = 0; i < 1000 && !output.includes('console-is-my-pty'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(output).toMatch(/37 123\r?\n[\s\S]*console-is-my-pty/);
    // From the host: the init's mount table has the pty on /dev/console, and its terminal's size.
    const pid = (await husk.state(id)).pid!;
    expect(readFileSync(`/proc/${pid}/mountinfo`, 'utf8')).toMatch(/ \/\d+ \/dev\/console .* - devpts /);
    expect(String((await execa('stty', ['-F', `/proc/${pid}/fd/0`, 'size'])).stdout).trim()).toBe('37 123');
    run.stdin!.write('\n');
    expect((await run).exitCode).toBe(0);
  });
});

describe('more combinations', () => {
  it('husk exec -t: the exec\'d process\'s pty has its process.consoleSize', async () => {
    const bundle = await hostToolsBundle(['/bin/sh', '-c', 'exec sleep 300']);
    const id = newId('exec-size');
    expect((await husk.detached(['run', '-d', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    try {
      const processFile = join(bundle.dir, 'sized.json');
      writeFileSync(processFile, JSON.stringify({
        terminal: true,
        consoleSize: { height: 11, width: 22 },
        args: ['/bin/sh', '-c', 'stty size'],
        cwd: '/',
        user: { uid: 0, gid: 0 },
        env: ['PATH=/usr/bin:/bin'],
      }));
      const result = await husk.run(['exec', '-t', '--process', processFile, id]);
      expect(String(result.stdout).trim()).toBe('11 22');
    } finally {
      await husk.run(['delete', '--force', id]);
    }
  });

  it('a time namespace with offsets inside a new user namespace', async () => {
    const bundle = await hostToolsBundle(['/bin/sh', '-c', 'cat /proc/self/timens_offsets; id -u'], (spec) => {
      spec.linux!.namespaces!.push({ type: 'time' }, { type: 'user' });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      spec.linux!.timeOffsets = { boottime: { secs: 42 } };
    });
    const result = await husk.run(['run', '--bundle', bundle.dir, newId('timens-userns')]);
    expect(result.stderr).toBe('');
    expect(String(result.stdout).trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['monotonic 0 0', 'boottime 42 0', '0']);
  });
});
