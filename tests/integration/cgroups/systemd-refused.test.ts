/**
 * --systemd-cgroup where husk's systemd driver cannot serve (this host: no systemd as PID 1, hybrid
 * cgroups): a clear error before anything exists, never a literal "slice:prefix:name" directory.
 * The driver itself is tested on pure v2 + systemd in tests/vm-systemd (the VM booted with -Y).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cgroupDirsNamed, useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle } from '../../helpers/rootfs.js';

const { husk, bundles, newId } = useHuskSuite();
const hostHasSystemd = existsSync('/run/systemd/system');

describe.skipIf(hostHasSystemd)('--systemd-cgroup on a host without systemd', () => {
  it('is refused with the reason, and leaves no state, cgroup or process', async () => {
    const id = newId('sd');
    const bundle = await makeTestBundle({ args: ['true'], mutate: (spec) => (spec.linux!.cgroupsPath = `system.slice:husk:${id}`) });
    bundles.push(bundle);
    const result = await husk.run(['--systemd-cgroup', 'run', '--bundle', bundle.dir, id]);
    expect(result.exitCode).not.toBe(0);
    expect(String(result.stderr)).toMatch(/--systemd-cgroup: this host does not run systemd \(no \/run\/systemd\/system\)/);
    husk.expectGone(id);
    expect(cgroupDirsNamed(`husk:${id}`)).toEqual([]);
    expect(cgroupDirsNamed(`husk-${id}.scope`)).toEqual([]);
  });
});
