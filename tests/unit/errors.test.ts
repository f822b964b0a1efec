/** Every error husk throws on purpose is a HuskError, with its context in the same five fields. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CgroupError } from '../../src/cgroups/errors.js';
import { UsageError } from '../../src/cli/command.js';
import { HuskError } from '../../src/errors.js';
import { ImageError } from '../../src/image/errors.js';
import { EscapeLabError } from '../../src/lab/run.js';
import { PsError } from '../../src/ps/errors.js';
import { ContainerError, SetupError } from '../../src/runtime/errors.js';
import { BundleError, SpecError } from '../../src/spec/errors.js';
import { UnknownSignalError } from '../../src/spec/signals.js';

const src = join(import.meta.dirname, '..', '..', 'src');
const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? sources(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));

describe('HuskError', () => {
  it('is the only class in src/ that extends Error itself', () => {
    const direct = sources(src).filter((f) => /class \w+ extends Error\b/.test(readFileSync(f, 'utf8')));
    expect(direct.map((f) => relative(src, f))).toEqual(['errors.ts']);
  });

  it('is the base of every typed error, which keeps its own name and message', () => {
    const errors = [
      new SetupError('mount proc on /proc', 19, undefined, 'mount'),
      new ContainerError('container "x" does not exist', 'ENOTFOUND'),
      new CgroupError('cannot write', { path: '/sys/fs/cgroup/x/memory.max', step: 'apply', code: 'EBUSY', errno: -16 }),
      new SpecError('process.args', 'must not be empty'),
      new BundleError('config-missing', '/b/config.json', 'no config.json', { code: 'ENOENT' }),
      new PsError('no ps', { reason: 'ps-missing', code: 'ENOENT' }),
      new EscapeLabError('still mounted', '/tmp/lab'),
      new UnknownSignalError('SIGFOO'),
      new UsageError('bad flag'),
      new ImageError('no such image', 'ENOTFOUND', { path: '/var/lib/husk/images/x' }),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(HuskError);
      expect(error.name).toBe(error.constructor.name);
    }
  });

  it('carries code, errno, step, path and op; SetupError names the failed op', () => {
    const setup = new SetupError('mount nosuchfs none on /data', 19, undefined, 'mount');
    expect(setup.message).toBe('mount nosuchfs none on /data: ENODEV (no such device)');
    expect({ code: setup.code, errno: setup.errno, step: setup.step, op: setup.op }).toEqual({
      code: 'ENODEV',
      errno: -19,
      step: 'mount nosuchfs none on /data',
      op: 'mount',
    });
    const cgroup = new CgroupError('x', { path: '/c', step: 'apply', jsonPath: 'linux.resources.pids.limit' });
    expect([cgroup.path, cgroup.step, cgroup.jsonPath, cgroup.code]).toEqual(['/c', 'apply', 'linux.resources.pids.limit', undefined]);
    const bundle = new BundleError('rootfs-missing', '/b/rootfs', 'no rootfs', { code: 'ENOENT', line: 1 });
    expect([bundle.path, bundle.code, bundle.line, bundle.kind]).toEqual(['/b/rootfs', 'ENOENT', 1, 'rootfs-missing']);
    expect(new ContainerError('x').code).toBe('EINVAL');
    expect(new EscapeLabError('still mounted', '/tmp/lab').path).toBe('/tmp/lab');
    // What a context does not give is absent, not an undefined own property.
    expect(Object.keys(new HuskError('plain')).filter((k) => k !== 'name')).toEqual([]);
  });
});
