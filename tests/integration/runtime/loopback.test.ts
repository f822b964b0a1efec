/**
 * `lo` is up in every network namespace husk creates, as runc brings it up (podman's
 * `--network none` and ctr's default containers reach 127.0.0.1): checked beside runc on
 * the same bundle, and for the spawn() primitive. A TCP connect to a closed port of
 * 127.0.0.1 is refused when `lo` is up and unreachable when it is down.
 */
import { openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from '../../../src/runtime/spawn.js';
import { useHuskSuite } from '../../helpers/husk.js';
import { makeHostToolsBundle } from '../../helpers/rootfs.js';
import { forRunc, makeRunc } from '../../helpers/runc.js';

const { husk, bundles, newId } = useHuskSuite();
const runc = makeRunc();
afterAll(() => runc.cleanup());

const probe = 'ip -o link show lo; bash -c "exec 3<>/dev/tcp/127.0.0.1/1" 2>&1; true';

function expectLoopbackUp(output: string, who: string): void {
  expect(output, who).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/m);
  expect(output, who).toContain('Connection refused');
  expect(output, who).not.toContain('Network is unreachable');
}

describe('loopback', () => {
  it('is up in the network namespace of a container, as with runc', { timeout: 120_000 }, async () => {
    for (const name of ['husk', 'runc'] as const) {
      const id = newId(`lo-${name}`);
      const bundle = await makeHostToolsBundle({ args: ['/bin/sh', '-c', probe], ...(name === 'runc' && { mutate: (spec) => forRunc(spec, id) }) });
      bundles.push(bundle);
      const result = await (name === 'husk' ? husk : runc).run(['run', '--bundle', bundle.dir, id]);
      expect(result.exitCode, `${name}: ${String(result.stderr)}`).toBe(0);
      expectLoopbackUp(String(result.stdout), name);
      if (name === 'runc') await runc.run(['delete', '--force', id]);
      else husk.expectGone(id);
    }
  });

  it('is up in the network namespace of a spawned process', async () => {
    const file = `/tmp/husk-lo-${process.pid}`;
    const out = openSync(file, 'w+');
    try {
      const child = await spawn({ file: '/bin/sh', args: ['sh', '-c', probe], namespaces: ['network'], stdio: [0, out, 2] });
      expect(await child.wait()).toEqual({ exitCode: 0, signal: null });
      expectLoopbackUp(readFileSync(file, 'utf8'), 'spawn');
    } finally {
      closeSync(out);
      rmSync(file);
    }
  });
});
