/**
 * The rest of the runtime's surface: mount destinations that go through
 * symlinks, linux.devices, the console socket, --log, the embedded host rootfs,
 * and the TypeScript API used from this (long-lived) process.
 */
import { spawn as spawnProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createContainer, containerState, deleteContainer, runContainer, startContainer } from '../../../src/index.js';
import { cgroupDirsNamed, processesMatching, testCgroupParent, useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle } from '../../helpers/rootfs.js';
import { waitFor } from '../../helpers/wait.js';

const { husk, bundles, newId } = useHuskSuite();

describe('mount destinations', () => {
  it('a destination reached through a symlink that points outside the rootfs is mounted inside it', async () => {
    const outside = `/tmp/husk-outside-${process.pid}`;
    mkdirSync(outside, { recursive: true });
    try {
      const bundle = await makeTestBundle({ args: ['ls', '/evil'] });
      bundles.push(bundle);
      // rootfs/evil -> /tmp/husk-outside-<pid> (absolute: on the host that is outside the rootfs)
      symlinkSync(outside, join(bundle.rootfs, 'evil'));
      await bundle.updateSpec((spec) => spec.mounts!.push({ destination: '/evil/mnt', type: 'tmpfs', source: 'tmpfs' }));
      const result = await husk.run(['run', '--bundle', bundle.dir, newId('symlink')]);
      expect(result.stderr).toBe('');
      expect(String(result.stdout).trim()).toBe('mnt'); // the tmpfs's mount point, created inside
      expect(existsSync(join(outside, 'mnt'))).toBe(false); // the host's directory was not touched
      expect(existsSync(join(bundle.rootfs, outside, 'mnt'))).toBe(true); // it went to <rootfs>/tmp/husk-outside-<pid>/mnt
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('devices', () => {
  it('creates linux.devices nodes with their type, numbers, mode and owner', async () => {
    const bundle = await makeTestBundle({
      args: ['stat', '/dev/fuse'],
      mutate: (spec) => (spec.linux!.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o640, uid: 1000, gid: 5 }]),
    });
    bundles.push(bundle);
    const result = await husk.run(['run', '--bundle', bundle.dir, newId('dev')]);
    expect(String(result.stdout).trim()).toBe('type=char mode=0640 uid=1000 gid=5 size=0 rdev=10:229');
  });
});

describe('console socket', () => {
  it('sends the pty master to --console-socket; the container writes to the pty', async () => {
    const bundle = await makeTestBundle({ args: ['isatty', '1'], mutate: (spec) => (spec.process!.terminal = true) });
    bundles.push(bundle);
    const socket = join(bundle.dir, 'console.sock');
    // A receiver as runc's recvtty does: accept, take the fd (SCM_RIGHTS), read the pty until EOF/EIO.
    const receiver = spawnProcess('python3', ['-c', `
import socket, array, os, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1)
print('ready', flush=True)
c, _ = s.accept()
msg, anc, flags, addr = c.recvmsg(1024, socket.CMSG_SPACE(4))
fd = array.array('i', anc[0][2][:4])[0]
out = b''
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk: break
    out += chunk
print('name=' + msg.decode() + ' output=' + out.decode().strip(), flush=True)
`, socket]);
    let output = '';
    receiver.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => receiver.on('exit', resolve));
    try {
      // 'ready' is printed after listen(): the socket accepts from then on (python may start slowly under load).
      await waitFor('the console socket receiver to listen', () => (output.includes('ready') ? true : undefined));
      const id = newId('console');
      const create = await husk.detached(['create', '--bundle', bundle.dir, '--console-socket', socket, id]);
      expect(create.stderr).toBe('');
      expect((await husk.run(['start', id])).exitCode).toBe(0);
      await exited;
      expect(output).toContain('name=/dev/ptmx output=yes');
      await husk.run(['delete', '--force', id]);
    } finally {
      receiver.kill('SIGKILL');
    }
  }, 120_000);

  it('refuses a terminal without a console socket when detaching', async () => {
    const bundle = await makeTestBundle({ mutate: (spec) => (spec.process!.terminal = true) });
    bundles.push(bundle);
    const id = newId('noconsole');
    const result = await husk.detached(['create', '--bundle', bundle.dir, id]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('give --console-socket');
    expect(existsSync(join(husk.root, id))).toBe(false);
  });
});

describe('--log', () => {
  it('appends errors to the log file, as JSON with --log-format json', async () => {
    const log = join(husk.root, '.husk.log');
    const result = await husk.run(['--log', log, '--log-format', 'json', 'state', 'nothing-here']);
    expect(result.exitCode).toBe(1);
    const entry = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!) as { level: string; msg: string };
    expect(entry).toMatchObject({ level: 'error', msg: 'container does not exist: "nothing-here"' });
  });
});

describe('the embedded default rootfs', () => {
  it('runs a host command isolated on the host\'s read-only /usr, with nothing left', async () => {
    const id = newId('embedded');
    const result = await husk.run(['run', '--rm', id, '--', 'sh', '-c', 'ps -e -o pid=,comm=; hostname; touch /usr/x 2>&1; touch /tmp/ok && echo tmp-writable']);
    expect(result.exitCode).toBe(0);
    const lines = String(result.stdout).trim().split('\n').map((l) => l.trim());
    expect(lines[0]).toBe('1 sh');
    expect(lines[1]).toBe('2 ps');
    expect(lines[2]).toBe(id);
    expect(lines[3]).toContain('Read-only file system');
    expect(lines[4]).toBe('tmp-writable');
    expect(existsSync(join(husk.root, id))).toBe(false);
    expect(cgroupDirsNamed(id)).toEqual([]);
  });
});

describe('the TypeScript API', () => {
  it('creates, starts, waits for and deletes containers from a long-lived process', async () => {
    const rt = { root: husk.root, cgroupParent: testCgroupParent };
    const bundle = await makeTestBundle({ args: ['exit', '3'] });
    bundles.push(bundle);
    for (let i = 0; i < 3; i++) {
      const id = newId('api');
      const container = await createContainer(rt, { id, bundle: bundle.dir });
      expect(containerState(rt, id).status).toBe('created');
      await startContainer(rt, id);
      expect(await container.init.wait()).toEqual({ exitCode: 3, signal: null });
      expect(containerState(rt, id).status).toBe('stopped');
      await deleteContainer(rt, id);
      expect(existsSync(join(husk.root, id))).toBe(false);
      expect(cgroupDirsNamed(id)).toEqual([]);
      expect(processesMatching(id)).toEqual([]);
    }
    const { code } = await runContainer(rt, { id: newId('api-run'), bundle: bundle.dir });
    expect(code).toBe(3);
  });
});
