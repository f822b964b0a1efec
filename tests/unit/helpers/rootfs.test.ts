import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBundle } from '../../../src/spec/index.js';
import type { Spec } from '../../../src/spec/types.js';
import {
  type TestBundle,
  hostToolPaths,
  makeHostToolsBundle,
  makeTestBundle,
  mountsUnder,
  testinitBinary,
} from '../../helpers/rootfs.js';

/** ELF program header types that need a dynamic loader at run time. */
const PT_INTERP = 3;

/** True when the ELF file has no PT_INTERP segment: the kernel runs it without ld.so. */
function isStaticElf(path: string): boolean {
  const elf = readFileSync(path);
  expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  expect(elf[4]).toBe(2); // ELFCLASS64
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  expect(phnum).toBeGreaterThan(0);
  for (let i = 0; i < phnum; i++) {
    if (elf.readUInt32LE(phoff + i * phentsize) === PT_INTERP) return false;
  }
  return true;
}

const bundles: TestBundle[] = [];
afterEach(async () => {
  for (const bundle of bundles.splice(0)) await bundle.cleanup();
});

async function track(bundle: Promise<TestBundle>): Promise<TestBundle> {
  const made = await bundle;
  bundles.push(made);
  return made;
}

function readConfig(bundle: TestBundle): Spec {
  return JSON.parse(readFileSync(bundle.configPath, 'utf8')) as Spec;
}

describe('makeTestBundle', () => {
  it('builds a bundle of config.json and a rootfs holding testinit and the usual directories', async () => {
    const bundle = await track(makeTestBundle({ args: ['echo', 'hi'] }));
    expect(bundle.dir.startsWith(tmpdir()) || bundle.dir.startsWith('/tmp/')).toBe(true);
    expect(bundle.dir.startsWith('/run/')).toBe(false);
    expect(bundle.rootfs).toBe(join(bundle.dir, 'rootfs'));
    for (const sub of ['proc', 'sys', 'dev', 'tmp', 'etc', 'run', 'bin']) {
      expect(statSync(join(bundle.rootfs, sub)).isDirectory(), sub).toBe(true);
    }
    expect(statSync(join(bundle.rootfs, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(statSync(bundle.rootfs).mode & 0o777).toBe(0o755);

    const passwd = readFileSync(join(bundle.rootfs, 'etc/passwd'), 'utf8');
    expect(passwd).toMatch(/^root:x:0:0:/m);
    expect(passwd).toMatch(/^tester:x:1000:1000:/m);
    const group = readFileSync(join(bundle.rootfs, 'etc/group'), 'utf8');
    expect(group).toMatch(/^root:x:0:/m);
    expect(group).toMatch(/^tester:x:1000:/m);

    const config = readConfig(bundle);
    expect(config).toEqual(bundle.spec);
    expect(config.root?.path).toBe('rootfs');
    expect(config.process?.terminal).toBe(false);
    expect(config.process?.args).toEqual(['/bin/testinit', 'echo', 'hi']);
    // a bundle husk itself accepts
    const loaded = await loadBundle(bundle.dir);
    expect(loaded.spec.process?.args).toEqual(['/bin/testinit', 'echo', 'hi']);
  });

  it('copies a static testinit that runs in the otherwise empty rootfs', async () => {
    const bundle = await track(makeTestBundle());
    const testinit = join(bundle.rootfs, 'bin/testinit');
    expect(statSync(testinit).mode & 0o111).toBe(0o111);
    expect(isStaticElf(testinitBinary)).toBe(true);
    expect(isStaticElf(testinit)).toBe(true);
    // nothing but testinit itself in the rootfs: no libc, no loader
    const { stdout } = await execa('chroot', [bundle.rootfs, '/bin/testinit', 'echo', 'from', 'inside']);
    expect(stdout).toBe('from inside');
    const ls = await execa('chroot', [bundle.rootfs, '/bin/testinit', 'ls', '/bin']);
    expect(ls.stdout).toBe('testinit');
  });

  it('applies mutate and extra files, and updateSpec rewrites config.json', async () => {
    const bundle = await track(
      makeTestBundle({
        mutate: (spec) => {
          spec.hostname = 'mutated';
        },
        files: { 'data/hello.txt': 'hello\n' },
      }),
    );
    expect(readConfig(bundle).hostname).toBe('mutated');
    expect(readFileSync(join(bundle.rootfs, 'data/hello.txt'), 'utf8')).toBe('hello\n');
    await bundle.updateSpec((spec) => {
      spec.process!.cwd = '/tmp';
    });
    expect(readConfig(bundle).process?.cwd).toBe('/tmp');
    await expect(makeTestBundle({ files: { '../escape': 'x' } })).rejects.toThrow(/outside the rootfs/);
  });

  it('cleanup removes the bundle, and refuses while something is mounted under it', async () => {
    const bundle = await makeTestBundle();
    const mountPoint = join(bundle.rootfs, 'tmp', 'leak');
    await mkdir(mountPoint);
    await execa('mount', ['-t', 'tmpfs', 'husk-test-leak', mountPoint]);
    try {
      expect(mountsUnder(bundle.dir)).toEqual([mountPoint]);
      await expect(bundle.cleanup()).rejects.toThrow(/still mounted under it: .*leak/);
      expect(existsSync(bundle.dir)).toBe(true);
    } finally {
      await execa('umount', [mountPoint]);
    }
    await bundle.cleanup();
    expect(existsSync(bundle.dir)).toBe(false);
    await bundle.cleanup(); // twice is harmless
  });
});

describe('makeHostToolsBundle', () => {
  it('lists read-only binds of the host directories and reproduces the host symlinks', async () => {
    const bundle = await track(makeHostToolsBundle({ args: ['/bin/ps', '-ef'] }));
    const config = readConfig(bundle);
    expect(config.process?.args).toEqual(['/bin/ps', '-ef']);
    expect((await loadBundle(bundle.dir)).spec.mounts).toEqual(config.mounts);
    const binds = (config.mounts ?? []).filter((m) => m.type === 'bind');
    let checked = 0;
    for (const hostPath of hostToolPaths) {
      const inRootfs = join(bundle.rootfs, hostPath);
      const bind = binds.find((m) => m.destination === hostPath);
      if (!existsSync(hostPath) && !isSymlink(hostPath)) {
        expect(existsSync(inRootfs)).toBe(false);
        expect(bind).toBeUndefined();
      } else if (isSymlink(hostPath)) {
        expect(readlinkSync(inRootfs)).toBe(readlinkSync(hostPath));
        expect(bind).toBeUndefined();
        checked++;
      } else {
        expect(statSync(inRootfs).isDirectory()).toBe(true);
        expect(bind).toEqual({ destination: hostPath, type: 'bind', source: hostPath, options: expect.arrayContaining(['rbind', 'ro']) });
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3); // at least /usr, /bin, /etc
    // the binds come before /proc, /dev... so those land on top as usual
    const destinations = (config.mounts ?? []).map((m) => m.destination);
    expect(destinations.indexOf('/usr')).toBeLessThan(destinations.indexOf('/proc'));
    // nothing is mounted on the host: the runtime makes the binds inside the container
    expect(mountsUnder(bundle.dir)).toEqual([]);
    expect(statSync(join(bundle.rootfs, 'testinit')).isFile()).toBe(true);
  });
});

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
