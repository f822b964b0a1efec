/**
 * Device rules on pure cgroup v2 (the eBPF filter husk builds), inside the VM: the very table
 * this host's v1 devices controller and runc 1.1.5 are held to in
 * tests/integration/cgroups/devices.test.ts (tests/cgroups/device-scenarios.ts). Issue #11,
 * item 4: without linux.resources.devices the filter allowed every device on v2.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectCgroups } from '../../src/cgroups/index.js';
import { deleteContainer, runContainer, type RuntimeOptions } from '../../src/runtime/container.js';
import { applyScenario, deviceScenarios, parseAccess, probeScript } from '../cgroups/device-scenarios.js';
import { testCgroupParent } from '../cgroups/lib.js';
import { makeHostToolsBundle, type TestBundle } from '../helpers/rootfs.js';

const isV2 = detectCgroups().mode === 'v2';
let rt: RuntimeOptions;
let outDir: string;
const bundles: TestBundle[] = [];
const ids: string[] = [];

describe.skipIf(!isV2)('device rules on cgroup v2', () => {
  beforeAll(() => {
    rt = { root: mkdtempSync('/run/husk-vm-'), cgroupParent: testCgroupParent };
    outDir = mkdtempSync('/tmp/husk-vm-out-');
  });
  afterAll(async () => {
    for (const id of ids) await deleteContainer(rt, id, true).catch(() => {});
    for (const b of bundles) await b.cleanup();
    rmSync(rt.root, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  });

  it.each(deviceScenarios.map((s, i) => [s.name, s, i] as const))('%s', async (_name, scenario, i) => {
    const bundle = await makeHostToolsBundle({ args: ['/bin/sh', '-c', probeScript('/testinit')], mutate: (spec) => applyScenario(spec, scenario) });
    bundles.push(bundle);
    const id = `v2-dev-${process.pid}-${i}`;
    ids.push(id);
    const path = join(outDir, id);
    const out = openSync(path, 'w');
    const devNull = openSync('/dev/null', 'r');
    try {
      const run = await runContainer(rt, { id, bundle: bundle.dir, stdio: [devNull, out, out] });
      expect(run.code, readFileSync(path, 'utf8')).toBe(0);
    } finally {
      closeSync(out);
      closeSync(devNull);
    }
    expect(parseAccess(readFileSync(path, 'utf8'))).toEqual(scenario.expected);
  });
});
