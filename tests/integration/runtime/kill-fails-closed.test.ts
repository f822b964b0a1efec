/**
 * A kill that sent nothing must not succeed. husk signals an init through a pidfd; when
 * pidfd_open fails for any reason but "no such process", `husk kill` says so and exits non-zero
 * (it used to return 0 without signalling). The kernel's refusal is real: valgrind does not
 * know pidfd_open (syscall 434) and answers ENOSYS, as a kernel before 5.3 would.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { cliPath, testCgroupParent, useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle } from '../../helpers/rootfs.js';

const { husk, bundles, newId } = useHuskSuite();

describe('husk kill fails closed', () => {
  it('exits non-zero and names pidfd_open when it cannot reach the init, which keeps running', async () => {
    const bundle = await makeTestBundle({ args: ['sleep', '300'] });
    bundles.push(bundle);
    const id = newId('kill-closed');
    expect((await husk.detached(['run', '--detach', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    const { pid } = await husk.state(id);
    const kill = await execa('valgrind', ['--tool=none', '--quiet', process.execPath, cliPath, '--root', husk.root, '--cgroup-parent', testCgroupParent, 'kill', id, 'KILL'], {
      reject: false,
      timeout: 120_000,
      env: { NODE_EXTRA_CA_CERTS: '' },
    });
    expect(kill.exitCode).not.toBe(0);
    expect(kill.stderr).toMatch(/ENOSYS.*pidfd_open/);
    expect((await husk.state(id)).status).toBe('running');
    expect(pid).toBeGreaterThan(0);
    // Without valgrind the same command signals it.
    expect((await husk.run(['kill', id, 'KILL'])).exitCode).toBe(0);
  }, 180_000);
});
