/**
 * Device rules on this host's v1 devices controller, against runc 1.1.5 on the same bundles and
 * the table that tests/vm/devices-v2.test.ts holds cgroup v2's eBPF filter to
 * (tests/cgroups/device-scenarios.ts): issue #11, item 4, the same rules give the same devices on
 * v1 and v2, default deny on both.
 */
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { detectCgroups } from '../../../src/cgroups/index.js';
import { useHuskSuite } from '../../helpers/husk.js';
import { makeHostToolsBundle } from '../../helpers/rootfs.js';
import { applyScenario, deviceScenarios, parseAccess, probeScript } from '../../cgroups/device-scenarios.js';

const { husk, bundles, newId } = useHuskSuite();
const runcRoot = mkdtempSync('/run/husk-test-runc-');
afterAll(() => rmSync(runcRoot, { recursive: true, force: true }));

describe('device rules on the v1 devices controller', () => {
  it('this host drives devices with v1 (else the v2 table is in tests/vm)', () => {
    expect(detectCgroups().v1Mounts['devices']).toBeDefined();
  });

  it.each(deviceScenarios.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
    const bundle = await makeHostToolsBundle({ args: ['/bin/sh', '-c', probeScript('/testinit')], mutate: (spec) => applyScenario(spec, scenario) });
    bundles.push(bundle);
    const id = newId('dev');
    const run = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(parseAccess(String(run.stdout))).toEqual(scenario.expected);
    husk.expectGone(id);

    const runcId = newId('runc');
    const runc = await execa('runc', ['--root', runcRoot, 'run', '--bundle', bundle.dir, runcId], { reject: false, stdin: 'ignore' });
    await execa('runc', ['--root', runcRoot, 'delete', '--force', runcId], { reject: false });
    expect(runc.exitCode, String(runc.stderr)).toBe(0);
    expect(parseAccess(String(runc.stdout))).toEqual(scenario.runc ?? scenario.expected);
  });
});
