/**
 * husk exec: a new process inside a running container's namespaces and cgroup,
 * with the container's process attributes unless told otherwise.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useHuskSuite } from '../../helpers/husk.js';
import { comm } from '../../helpers/proc.js';
import { catchesSignal, waitFor } from '../../helpers/wait.js';
import { makeTestBundle } from '../../helpers/rootfs.js';
import type { Spec, State } from '../../../src/spec/types.js';

const { husk, bundles, newId } = useHuskSuite();

async function running(mutate?: (spec: Spec) => void): Promise<{ id: string; init: number }> {
  const bundle = await makeTestBundle({ args: ['sleep', '300'], ...(mutate && { mutate }) });
  bundles.push(bundle);
  const id = newId('exec');
  const run = await husk.detached(['run', '-d', '--bundle', bundle.dir, id]);
  expect(run.stderr).toBe('');
  const state = JSON.parse(String((await husk.run(['state', id])).stdout)) as State;
  expect(state.status).toBe('running');
  return { id, init: state.pid! };
}

/** The argv of host process `pid` (/proc/PID/cmdline), joined by spaces; '' once it is gone. */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}


describe('exec', () => {
  it('runs in the container\'s namespaces, as a process of its pid namespace and cgroup', async () => {
    const { id, init } = await running((spec) => (spec.hostname = 'execbox'));
    const result = await husk.run(['exec', id, '/bin/testinit', 'ns']);
    expect(result.exitCode).toBe(0);
    const inside = Object.fromEntries(String(result.stdout).trim().split('\n').map((l) => l.split(' ') as [string, string]));
    for (const ns of ['pid', 'net', 'ipc', 'uts', 'mnt']) {
      const initNs = readlinkSync(`/proc/${init}/ns/${ns}`).match(/\[(\d+)\]/)![1];
      expect(inside[ns], ns).toBe(initNs);
      expect(initNs, ns).not.toBe(readlinkSync(`/proc/self/ns/${ns}`).match(/\[(\d+)\]/)![1]);
    }
    expect(String((await husk.run(['exec', id, '/bin/testinit', 'hostname'])).stdout).trim()).toBe('execbox');
    // pid 1 is the container's init; the exec'd process has another pid of that namespace
    const pid = Number(String((await husk.run(['exec', id, '/bin/testinit', 'pid'])).stdout).trim());
    expect(pid).toBeGreaterThan(1);
    const pids = JSON.parse(String((await husk.run(['ps', '--format', 'json', id])).stdout)) as number[];
    expect(pids).toContain(init);
  });

  it('passes the exit code and the signal back', async () => {
    const { id, init } = await running();
    expect((await husk.run(['exec', id, '/bin/testinit', 'exit', '5'])).exitCode).toBe(5);
    const pidFile = join(bundles.at(-1)!.dir, 'exec.pid');
    const sleeper = husk.run(['exec', '--pid-file', pidFile, id, '/bin/testinit', 'sleep', '300']);
    // Signal only once the process runs in the container and husk has its forwarding handler in place
    // (husk writes the pid file right before installing it; a SIGTERM before that kills husk itself).
    const pid = await waitFor('the exec\'d sleeper in the container', async () => {
      const written = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
      const pids = JSON.parse(String((await husk.run(['ps', '--format', 'json', id])).stdout || '[]')) as number[];
      return written > 0 && pids.includes(written) && written !== init && comm(written) === 'testinit' && commandLine(written) === '/bin/testinit sleep 300' ? written : undefined;
    });
    expect(pid).toBeGreaterThan(0);
    await waitFor('husk exec to catch SIGTERM', () => (catchesSignal(sleeper.pid!, constants.signals.SIGTERM) ? true : undefined));
    sleeper.kill('SIGTERM'); // forwarded by husk straight to its child
    expect((await sleeper).exitCode).toBe(143);
  }, 120_000);

  it('takes env, cwd and user from flags over the container\'s process config', async () => {
    const { id } = await running((spec) => (spec.process!.env = ['KEEP=1', 'OVER=old']));
    const env = await husk.run(['exec', '-e', 'OVER=new', '-e', 'ADD=x', id, '/bin/testinit', 'env']);
    expect(String(env.stdout).trim().split('\n').sort()).toEqual(['ADD=x', 'KEEP=1', 'OVER=new']);
    expect(String((await husk.run(['exec', '--cwd', '/tmp', id, '/bin/testinit', 'cwd'])).stdout).trim()).toBe('/tmp');
    expect(String((await husk.run(['exec', '-u', '1000:1000', id, '/bin/testinit', 'ids'])).stdout)).toMatch(/^uid=1000 gid=1000 /);
  });

  it('keeps the container\'s capability sets', async () => {
    const { id } = await running();
    const caps = String((await husk.run(['exec', id, '/bin/testinit', 'caps'])).stdout);
    const mask = ((1n << 29n) | (1n << 5n) | (1n << 10n)).toString(16).padStart(16, '0');
    expect(caps).toContain(`CapBnd:\t${mask}`);
  });

  it('enters a container with a user namespace', async () => {
    const { id } = await running((spec) => {
      spec.linux!.namespaces!.push({ type: 'user' });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    });
    const result = await husk.run(['exec', id, '/bin/testinit', 'ids']);
    expect(result.stderr).toBe('');
    expect(String(result.stdout)).toMatch(/^uid=0 gid=0 /);
  });

  it('--pid-file gets the exec\'d process\'s own pid, inside the container\'s pid namespace', async () => {
    const { id, init } = await running();
    const pidFile = `${husk.root}/.exec-${id}.pid`;
    const exec = await husk.detached(['exec', '-d', '--pid-file', pidFile, id, '/bin/testinit', 'sleep', '300']);
    expect(exec.stderr).toBe('');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('testinit\0sleep');
    expect(readlinkSync(`/proc/${pid}/ns/pid`)).toBe(readlinkSync(`/proc/${init}/ns/pid`));
    const nspid = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^NSpid:\t(.*)$/m)![1]!.split('\t');
    expect(Number(nspid.at(-1))).toBeGreaterThan(1); // not the container's init
  });

  it('enters a created container (its init waiting at the start gate), as runc does', async () => {
    const bundle = await makeTestBundle({ args: ['sleep', '300'] });
    bundles.push(bundle);
    const id = newId('created');
    expect((await husk.detached(['create', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    const result = await husk.run(['exec', id, '/bin/testinit', 'pid']);
    expect(result.stderr).toBe('');
    expect(Number(String(result.stdout).trim())).toBeGreaterThan(1);
    expect((await husk.state(id)).status).toBe('created');
  });

  it('fails clearly for a missing command and a stopped container', async () => {
    const { id } = await running();
    const missing = await husk.run(['exec', id, '/bin/nope']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toBe('husk: find executable "/bin/nope": ENOENT (no such file or directory)');
    await husk.run(['kill', id, 'KILL']);
    for (let i = 0; i < 200 && String((await husk.run(['state', id])).stdout).includes('running'); i++) await new Promise((r) => setTimeout(r, 10));
    expect((await husk.run(['exec', id, '/bin/testinit', 'true'])).stderr).toBe(`husk: cannot exec in a stopped container: "${id}"`);
  });
});
