/**
 * The lifecycle of runtime.md through the runc-style CLI: states move as the
 * spec says, exit codes and signals propagate, hooks run at their points with
 * the state on stdin, and every failure leaves nothing behind.
 */
import { execa } from 'execa';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cgroupDirsNamed, cliPath, useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle, type TestBundle } from '../../helpers/rootfs.js';
import { catchesSignal, waitFor } from '../../helpers/wait.js';
import type { Spec } from '../../../src/spec/types.js';

const { husk, bundles, newId } = useHuskSuite();

async function bundleWith(args: string[], mutate?: (spec: Spec) => void, files?: Record<string, string>): Promise<TestBundle> {
  const bundle = await makeTestBundle({ args, ...(mutate && { mutate }), ...(files && { files }) });
  bundles.push(bundle);
  return bundle;
}



describe('states', () => {
  it('moves created -> running -> stopped -> deleted as runtime.md says', async () => {
    const bundle = await bundleWith(['sleep', '300']);
    const id = newId('life');
    const create = await husk.detached(['create', '--bundle', bundle.dir, id]);
    expect(create.stderr).toBe('');
    expect(create.exitCode).toBe(0);

    const created = await husk.state(id);
    expect(created).toMatchObject({ ociVersion: '1.2.0', id, status: 'created', bundle: bundle.dir });
    expect(created.pid).toBeGreaterThan(1);
    // the init waits at the gate: not yet exec'd
    expect(readFileSync(`/proc/${created.pid}/cmdline`, 'utf8')).not.toContain('testinit');

    expect((await husk.run(['start', id])).exitCode).toBe(0);
    expect((await husk.state(id)).status).toBe('running');
    expect(readFileSync(`/proc/${created.pid}/cmdline`, 'utf8')).toContain('testinit');
    expect((await husk.run(['start', id])).stderr).toBe(`husk: cannot start an already running container: "${id}"`);

    const list = JSON.parse(String((await husk.run(['list', '--format', 'json'])).stdout)) as { id: string; status: string }[];
    expect(list.find((c) => c.id === id)?.status).toBe('running');
    expect((await husk.run(['delete', id])).stderr).toBe(`husk: cannot delete container ${id} that is not stopped: running (stop it first, or use --force)`);

    expect((await husk.run(['kill', id, 'KILL'])).exitCode).toBe(0);
    for (let i = 0; i < 200 && (await husk.state(id)).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    const stopped = await husk.state(id);
    expect(stopped.status).toBe('stopped');
    expect(stopped.pid).toBeUndefined();

    expect((await husk.run(['delete', id])).exitCode).toBe(0);
    expect((await husk.run(['state', id])).stderr).toContain(`container does not exist: "${id}"`);
    husk.expectGone(id);
  });

  it('writes --pid-file and reports an unknown container clearly', async () => {
    const bundle = await bundleWith(['sleep', '300']);
    const id = newId('pidfile');
    const pidFile = join(bundle.dir, 'init.pid');
    expect((await husk.detached(['create', '--bundle', bundle.dir, '--pid-file', pidFile, id])).exitCode).toBe(0);
    expect(Number(readFileSync(pidFile, 'utf8'))).toBe((await husk.state(id)).pid);
    expect((await husk.run(['delete', id])).exitCode).toBe(0); // a created container may be deleted
    husk.expectGone(id);
    const unknown = await husk.run(['kill', 'no-such-container']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toBe('husk: container does not exist: "no-such-container"');
  });

  it('delete --force kills a running container whose process ignores SIGTERM', async () => {
    const bundle = await bundleWith(['sleep-ignore-term', '300']);
    const id = newId('force');
    expect((await husk.detached(['run', '-d', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    expect((await husk.state(id)).status).toBe('running');
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });
});

describe('cgroups', () => {
  it('delete removes the cgroup directories husk made for the container, parents included', async () => {
    const id = newId('nest');
    const parent = `husk-nest-${process.pid}`;
    const bundle = await bundleWith(['true'], (spec) => (spec.linux!.cgroupsPath = `${parent}/${id}`));
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(cgroupDirsNamed(parent)).toEqual([]);
    husk.expectGone(id);
  });
});

describe('exit codes and signals', () => {
  it('run exits with the container\'s exit code', async () => {
    const bundle = await bundleWith(['exit', '7']);
    const id = newId('exit');
    expect((await husk.run(['run', '--bundle', bundle.dir, id])).exitCode).toBe(7);
    husk.expectGone(id);
  });

  it('run exits with 128 + the signal that killed the container', async () => {
    const bundle = await bundleWith(['sleep', '300']);
    const id = newId('sig');
    const run = husk.run(['run', '--bundle', bundle.dir, id]);
    for (let i = 0; i < 200 && String((await husk.run(['state', id])).stdout).indexOf('running') === -1; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await husk.run(['kill', id, 'SIGKILL']);
    expect((await run).exitCode).toBe(137);
    husk.expectGone(id);
  });

  it('run forwards the signals it receives to the container', async () => {
    const bundle = await bundleWith(['sleep', '300']); // testinit sleep exits 143 on SIGTERM
    const id = newId('fwd');
    const run = husk.run(['run', '--bundle', bundle.dir, id]);
    await waitFor('the container to run', async () => (String((await husk.run(['state', id])).stdout).includes('running') ? true : undefined));
    // and husk run to catch SIGTERM (before its forwarding is in place, the signal would kill husk itself)
    await waitFor('husk run to catch SIGTERM', () => (catchesSignal(run.pid!, constants.signals.SIGTERM) ? true : undefined));
    run.kill('SIGTERM');
    expect((await run).exitCode).toBe(143);
    husk.expectGone(id);
  });
});

describe('hooks', () => {
  it('runs every hook at its point with the state JSON on stdin', async () => {
    const bundle = await bundleWith(['echo', 'main']);
    const log = join(bundle.dir, 'hooks.log');
    const script = join(bundle.dir, 'hook.sh');
    // Records: hook name, the container's status and id from stdin, and its hostname (its uts namespace).
    writeFileSync(script, `#!/bin/sh\nread -r state\necho "$1 $(echo "$state" | sed 's/.*"status":"\\([a-z]*\\)".*/\\1/') $(hostname)" >> ${log}\n`);
    chmodSync(script, 0o755);
    const hook = (name: string) => ({ path: script, args: ['hook.sh', name] });
    await bundle.updateSpec((spec) => {
      spec.hostname = 'inside';
      spec.hooks = {
        prestart: [hook('prestart')],
        createRuntime: [hook('createRuntime')],
        createContainer: [hook('createContainer')],
        poststart: [hook('poststart')],
        poststop: [hook('poststop')],
      };
    });
    const id = newId('hooks');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(result.stderr).toBe('');
    expect(String(result.stdout).trim()).toBe('main');
    const host = (await execa('hostname')).stdout;
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      `prestart creating ${host}`,
      `createRuntime creating ${host}`,
      'createContainer creating inside',
      `poststart running ${host}`,
      `poststop stopped ${host}`,
    ]);
    husk.expectGone(id);
  });

  it('runs startContainer hooks inside the container after start', async () => {
    // the hook is the container's own testinit: it resolves in the container's root
    const bundle = await bundleWith(['cat', '/tmp/started'], (spec) => {
      spec.root!.readonly = false;
      spec.hooks = { startContainer: [{ path: '/bin/testinit', args: ['testinit', 'write', '/tmp/started', 'by-hook'] }] };
    });
    const id = newId('startc');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(result.stderr).toBe('');
    expect(String(result.stdout).trim()).toBe('by-hook');
  });

  it('a failing createRuntime hook fails create and leaves nothing', async () => {
    const bundle = await bundleWith(['true'], (spec) => (spec.hooks = { createRuntime: [{ path: '/bin/false' }] }));
    const id = newId('hookfail');
    const result = await husk.detached(['create', '--bundle', bundle.dir, id]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('husk: createRuntime hook /bin/false: exited with status 1');
    husk.expectGone(id);
  });

  it('a hook over its timeout is killed and fails create', async () => {
    const bundle = await bundleWith(['true'], (spec) => (spec.hooks = { prestart: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] }));
    const id = newId('hooktimeout');
    const result = await husk.detached(['create', '--bundle', bundle.dir, id]);
    expect(result.stderr).toBe('husk: prestart hook /bin/sleep: timed out after 1s');
    husk.expectGone(id);
  });
});

describe('failures leave nothing behind', () => {
  it('a bad config is refused with its JSON path before anything is created', async () => {
    const bundle = await bundleWith(['true'], (spec) => spec.linux!.namespaces!.push({ type: 'pidd' as 'pid' }));
    const id = newId('badcfg');
    const result = await husk.detached(['create', '--bundle', bundle.dir, id]);
    expect(result.stderr).toMatch(/linux\.namespaces\[\d\]\.type: unknown namespace "pidd"/);
    husk.expectGone(id);
  });

  it('a missing rootfs is named', async () => {
    const bundle = await bundleWith(['true'], (spec) => (spec.root!.path = 'nowhere'));
    const id = newId('norootfs');
    const result = await husk.detached(['create', '--bundle', bundle.dir, id]);
    expect(result.stderr).toContain(join(bundle.dir, 'nowhere'));
    husk.expectGone(id);
  });

  it('a failing mount names the step and the errno', async () => {
    const bundle = await bundleWith(['true'], (spec) => spec.mounts!.push({ destination: '/data', type: 'nosuchfs', source: 'none' }));
    const id = newId('badmount');
    const result = await husk.detached(['create', '--bundle', bundle.dir, id]);
    expect(result.stderr).toBe('husk: mount nosuchfs none on /data: ENODEV (no such device)');
    husk.expectGone(id);
  });

  it('a missing executable fails create, not start', async () => {
    const bundle = await bundleWith(['true'], (spec) => (spec.process!.args = ['/bin/nope']));
    const id = newId('noexec');
    const result = await husk.detached(['create', '--bundle', bundle.dir, id]);
    expect(result.stderr).toBe('husk: find executable "/bin/nope": ENOENT (no such file or directory)');
    husk.expectGone(id);
  });

  it('two concurrent creates of one id give one container and one clear error', async () => {
    const bundle = await bundleWith(['sleep', '300']);
    const id = newId('race');
    const results = await Promise.all([0, 1, 2].map(() => husk.detached(['create', '--bundle', bundle.dir, id])));
    expect(results.filter((r) => r.exitCode === 0)).toHaveLength(1);
    for (const failed of results.filter((r) => r.exitCode !== 0)) expect(failed.stderr).toBe(`husk: container with given ID already exists: "${id}"`);
    expect((await husk.state(id)).status).toBe('created');
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });

  it('a runtime killed with SIGKILL in the middle of create leaves only what delete --force removes', async () => {
    const bundle = await bundleWith(['true']);
    const marker = join(bundle.dir, 'hook-started');
    await bundle.updateSpec((spec) => (spec.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}; sleep 2`] }] }));
    const id = newId('sigkill');
    const create = husk.run(['create', '--bundle', bundle.dir, id], { stdout: 'ignore', stderr: 'ignore' });
    await waitFor('the createRuntime hook to run', () => (existsSync(marker) ? true : undefined));
    create.kill('SIGKILL');
    await create;
    // The init dies with its runtime (parent-death signal, closed sync socket).
    const pid = JSON.parse(readFileSync(join(husk.root, id, 'state.json'), 'utf8')).pid as number;
    await waitFor(`the init ${pid} to die`, () => {
      try {
        return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')) ? true : undefined;
      } catch {
        return true; // gone (reaped)
      }
    });
    expect((await husk.state(id)).status).toBe('stopped');
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });
});

describe('bundles from elsewhere', () => {
  it('runs a bundle written by `husk spec` (runc spec) with only its args changed, on a terminal', async () => {
    const bundle = await bundleWith(['true']);
    await execa('rm', ['-f', join(bundle.dir, 'config.json')]);
    const spec = await execa('node', [cliPath, 'spec', '--bundle', bundle.dir], { reject: false });
    expect(spec.exitCode).toBe(0);
    // runc spec's config: terminal true, rootfs "rootfs" read-only, hostname "husk"; only args change.
    const config = JSON.parse(readFileSync(join(bundle.dir, 'config.json'), 'utf8')) as Spec;
    expect(config.process!.terminal).toBe(true);
    for (const [args, expected] of [
      [['/bin/testinit', 'isatty', '1'], 'yes'],
      [['/bin/testinit', 'hostname'], 'husk'],
    ] as const) {
      config.process!.args = [...args];
      writeFileSync(join(bundle.dir, 'config.json'), JSON.stringify(config));
      const id = newId('runcspec');
      const result = await husk.run(['run', '--bundle', bundle.dir, id]);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(String(result.stdout).replace(/\r/g, '').trim()).toBe(expected);
      husk.expectGone(id);
    }
  });
});
