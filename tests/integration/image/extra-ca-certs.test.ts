/**
 * NODE_EXTRA_CA_CERTS. Node 20 loads that file as it starts, before any of husk's code runs (about
 * 85 ms a process here), and engines start husk four times a container; only `husk pull` ever
 * opens a TLS connection. So the launcher (dist/cli.cjs's sh lines) moves the value aside before it
 * execs Node, and the registry client adds those certificates itself
 * (src/image/extra-ca-certs.ts). Proved against a real registry over https whose certificate is
 * signed by a CA that only that file holds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath } from '../../helpers/husk.js';
import { busyboxEntries, craftLayout } from '../../helpers/image-fixtures.js';
import { push, startRegistry, type TestRegistry } from '../../helpers/registry.js';

const work = mkdtempSync('/tmp/husk-extra-ca-test-');
let registry: TestRegistry;
let stores = 0;

/** This environment without NODE_EXTRA_CA_CERTS (this sandbox sets it), plus `extra`. */
function environment(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.endsWith('EXTRA_CA_CERTS')) env[key] = value;
  return { ...env, ...extra };
}

/** `husk pull` of the registry's image into a new store: exec'd as an engine does, or as `node dist/cli.js`. */
function pull(how: 'exec' | 'node', env: Record<string, string>) {
  const args = ['--store', join(work, `store-${stores++}`), 'pull', '--quiet', `${registry.host}/husk/tls:1`];
  return how === 'exec'
    ? execa(cliPath, args, { env, extendEnv: false, reject: false, timeout: 120_000 })
    : execa('node', [cliPath, ...args], { env, extendEnv: false, reject: false, timeout: 120_000 });
}

beforeAll(async () => {
  registry = await startRegistry(join(work, 'registry'), { tls: true });
  const { dir } = await craftLayout(join(work, 'layout'), [busyboxEntries()]);
  await push(`oci:${dir}`, registry, 'husk/tls:1');
}, 180_000);

afterAll(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('NODE_EXTRA_CA_CERTS', () => {
  it('never reaches Node when husk is exec’d: a file Node cannot load draws no start-up warning (it does under `node dist/cli.js`)', async () => {
    const env = environment({ NODE_EXTRA_CA_CERTS: join(work, 'no-such-file.pem') });
    const execd = await execa(cliPath, ['--version'], { env, extendEnv: false, reject: false });
    expect(execd.exitCode).toBe(0);
    expect(execd.stderr).not.toContain('extra certs');
    const direct = await execa('node', [cliPath, '--version'], { env, extendEnv: false, reject: false });
    expect(direct.exitCode).toBe(0);
    expect(direct.stderr).toContain('Ignoring extra certs');
  });

  it('is what makes `husk pull` trust the registry: refused without it, pulled with it, exec’d or under node', async () => {
    const untrusted = await pull('exec', environment());
    expect(untrusted.exitCode).not.toBe(0);
    expect(untrusted.stderr).toMatch(/certificate/i);
    for (const how of ['exec', 'node'] as const) {
      const trusted = await pull(how, environment({ NODE_EXTRA_CA_CERTS: registry.caFile! }));
      expect({ how, exitCode: trusted.exitCode, stderr: trusted.stderr }).toEqual({ how, exitCode: 0, stderr: '' });
    }
  }, 240_000);

  it('a file that cannot be read is ignored with a warning, as Node does, and the pull is refused', async () => {
    const missing = join(work, 'gone.pem');
    const result = await pull('exec', environment({ NODE_EXTRA_CA_CERTS: missing }));
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(`Ignoring extra certs from \`${missing}\``);
    expect(result.stderr).toMatch(/certificate/i);
  }, 120_000);
});
