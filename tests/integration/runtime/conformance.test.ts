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
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
      const inside = await husk.run(['exec', id, '/bin/sh', '-c', 'cat /dev/shm/seen; grep " /run/notify " /proc/self/mounts']);
      expect(String(inside.stdout)).toMatch(/^\/run\/notify\/notify\.sock\n\S+ \/run\/notify \S+ ro,/);
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
