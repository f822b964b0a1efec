import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BundleError, SpecError } from '../../../src/spec/errors.js';
import { lineAndColumn, loadBundle, loadBundleSync } from '../../../src/spec/load.js';
import { defaultSpec, formatSpec } from '../../../src/spec/defaults.js';
import { command as specCommand } from '../../../src/cli/spec.js';
import type { CommandContext } from '../../../src/cli/command.js';

let tmp: string;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'husk-spec-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function writeBundle(dir: string, config: unknown, rootfs = 'rootfs'): void {
  mkdirSync(join(dir, rootfs), { recursive: true });
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
}

function bundleErrorOf(run: () => unknown): BundleError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BundleError);
    return error as BundleError;
  }
  throw new Error('expected a BundleError');
}

function ctx(opts: CommandContext['opts']): CommandContext {
  return { global: { root: join(tmp, 'state'), logFormat: 'text', debug: false }, args: [], opts };
}

describe('loadBundle', () => {
  it('loads a bundle written by husk spec', async () => {
    const dir = join(tmp, 'bundle');
    mkdirSync(join(dir, 'rootfs'), { recursive: true });
    expect(await specCommand.run(ctx({ bundle: dir }))).toBe(0);
    const bundle = await loadBundle(dir);
    expect(bundle.dir).toBe(dir);
    expect(bundle.configPath).toBe(join(dir, 'config.json'));
    expect(bundle.rootfs).toBe(join(dir, 'rootfs'));
    expect(bundle.spec.hostname).toBe('husk');
    expect(bundle.spec.process!.args).toEqual(['sh']);
  });

  it('resolves relative bundle paths and symlinks', () => {
    const real = join(tmp, 'real');
    writeBundle(real, defaultSpec({ cgroupNamespace: false }));
    symlinkSync(real, join(tmp, 'link'));
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      const bundle = loadBundleSync('link');
      expect(bundle.dir).toBe(real);
      expect(bundle.rootfs).toBe(join(real, 'rootfs'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('takes an absolute root.path and resolves a symlinked rootfs', () => {
    const rootfs = join(tmp, 'elsewhere', 'root');
    mkdirSync(rootfs, { recursive: true });
    const dir = join(tmp, 'b');
    mkdirSync(dir);
    symlinkSync(rootfs, join(dir, 'rootfs-link'));
    writeBundle(dir, { ...defaultSpec({ cgroupNamespace: false }), root: { path: join(dir, 'rootfs-link') } }, 'unused');
    expect(loadBundleSync(dir).rootfs).toBe(rootfs);
  });

  it('fails on a missing bundle directory', () => {
    const missing = join(tmp, 'nope');
    const error = bundleErrorOf(() => loadBundleSync(missing));
    expect(error.kind).toBe('bundle-missing');
    expect(error.path).toBe(missing);
    expect(error.code).toBe('ENOENT');
    expect(error.message).toBe(`bundle ${missing}: no such directory`);
  });

  it('fails when the bundle is a file', () => {
    const file = join(tmp, 'file');
    writeFileSync(file, '');
    const error = bundleErrorOf(() => loadBundleSync(file));
    expect(error.kind).toBe('bundle-not-directory');
    expect(error.message).toBe(`bundle ${file}: not a directory`);
  });

  it('fails on a missing config.json', () => {
    const dir = join(tmp, 'empty');
    mkdirSync(dir);
    const error = bundleErrorOf(() => loadBundleSync(dir));
    expect(error.kind).toBe('config-missing');
    expect(error.path).toBe(join(dir, 'config.json'));
    expect(error.message).toBe(`${join(dir, 'config.json')}: no such file (a bundle needs a config.json; 'husk spec' writes one)`);
  });

  it('fails on an unreadable config.json', () => {
    const dir = join(tmp, 'dir-config');
    mkdirSync(join(dir, 'config.json'), { recursive: true });
    const error = bundleErrorOf(() => loadBundleSync(dir));
    expect(error.kind).toBe('config-unreadable');
    expect(error.code).toBe('EISDIR');
    expect(error.message).toBe(`${join(dir, 'config.json')}: cannot read: EISDIR`);
  });

  it('fails on invalid JSON, saying where', () => {
    const dir = join(tmp, 'badjson');
    writeBundle(dir, '{\n  "ociVersion": "1.2.0",\n  "root": {"path": "rootfs"},\n}\n');
    const error = bundleErrorOf(() => loadBundleSync(dir));
    expect(error.kind).toBe('config-invalid-json');
    expect(error.path).toBe(join(dir, 'config.json'));
    expect(error.line).toBe(4);
    expect(error.column).toBe(1);
    expect(error.message).toMatch(new RegExp(`^${join(dir, 'config.json')}: invalid JSON at line 4, column 1: .+`));
    expect(error.message).not.toContain('position');
  });

  it('fails on truncated JSON at its end', () => {
    const dir = join(tmp, 'truncated');
    writeBundle(dir, '{\n  "ociVersion": "1.2.0",\n  "root": {');
    const error = bundleErrorOf(() => loadBundleSync(dir));
    expect(error.kind).toBe('config-invalid-json');
    expect([error.line, error.column]).toEqual([3, 12]);
  });

  it('fails on a config that breaks a rule, with the file set', () => {
    const dir = join(tmp, 'invalid');
    const config = defaultSpec({ cgroupNamespace: false });
    config.linux!.namespaces![2] = { type: 'pidd' as 'pid' };
    writeBundle(dir, config);
    try {
      loadBundleSync(dir);
      throw new Error('expected a SpecError');
    } catch (error) {
      expect(error).toBeInstanceOf(SpecError);
      expect((error as SpecError).message).toBe('linux.namespaces[2].type: unknown namespace "pidd"');
      expect((error as SpecError).file).toBe(join(dir, 'config.json'));
    }
  });

  it('fails on a missing rootfs', () => {
    const dir = join(tmp, 'norootfs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), formatSpec(defaultSpec({ cgroupNamespace: false })));
    const error = bundleErrorOf(() => loadBundleSync(dir));
    expect(error.kind).toBe('rootfs-missing');
    expect(error.path).toBe(join(dir, 'rootfs'));
    expect(error.code).toBe('ENOENT');
    expect(error.message).toBe(`rootfs ${join(dir, 'rootfs')} (root.path "rootfs"): no such directory`);
  });

  it('fails when the rootfs is a file', () => {
    const dir = join(tmp, 'filerootfs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), formatSpec(defaultSpec({ cgroupNamespace: false })));
    writeFileSync(join(dir, 'rootfs'), '');
    const error = bundleErrorOf(() => loadBundleSync(dir));
    expect(error.kind).toBe('rootfs-not-directory');
    expect(error.message).toBe(`rootfs ${join(dir, 'rootfs')} (root.path "rootfs"): not a directory`);
  });

  it('passes validation options through', async () => {
    const dir = join(tmp, 'noprocess');
    const config = defaultSpec({ cgroupNamespace: false });
    delete config.process;
    writeBundle(dir, config);
    await expect(loadBundle(dir)).rejects.toThrow('process: is required');
    expect((await loadBundle(dir, { requireProcess: false })).spec.process).toBeUndefined();
  });
});

describe('lineAndColumn', () => {
  it('counts 1-based lines and columns', () => {
    expect(lineAndColumn('abc', 0)).toEqual({ line: 1, column: 1 });
    expect(lineAndColumn('abc\ndef', 5)).toEqual({ line: 2, column: 2 });
    expect(lineAndColumn('a\n\nb', 3)).toEqual({ line: 3, column: 1 });
  });
});

describe('husk spec', () => {
  it('writes config.json into --bundle, tab-indented like runc', async () => {
    const dir = join(tmp, 'b1');
    mkdirSync(dir);
    expect(await specCommand.run(ctx({ bundle: dir }))).toBe(0);
    const text = readFileSync(join(dir, 'config.json'), 'utf8');
    expect(text.startsWith('{\n\t"ociVersion": "1.2.0",')).toBe(true);
    expect(text.endsWith('}')).toBe(true);
  });

  it('writes into the current directory by default', async () => {
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      expect(await specCommand.run(ctx({}))).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    expect(JSON.parse(readFileSync(join(tmp, 'config.json'), 'utf8')).hostname).toBe('husk');
  });

  it('writes the rootless variant', async () => {
    const dir = join(tmp, 'b2');
    mkdirSync(dir);
    expect(await specCommand.run(ctx({ bundle: dir, rootless: true }))).toBe(0);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(spec.linux.uidMappings).toEqual([{ containerID: 0, hostID: process.geteuid!(), size: 1 }]);
    expect(spec.linux.resources).toBeUndefined();
  });

  it("refuses to overwrite config.json, in runc's words", async () => {
    const dir = join(tmp, 'b3');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), 'mine');
    await expect(specCommand.run(ctx({ bundle: dir }))).rejects.toThrow('File config.json exists. Remove it first');
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('mine');
  });

  it('fails on a missing bundle directory as runc does', async () => {
    await expect(specCommand.run(ctx({ bundle: join(tmp, 'missing') }))).rejects.toThrow(
      `chdir ${join(tmp, 'missing')}: no such file or directory`,
    );
  });

  it('creates the file 0666 less the umask', async () => {
    const dir = join(tmp, 'b4');
    mkdirSync(dir);
    const old = process.umask(0o022);
    try {
      expect(await specCommand.run(ctx({ bundle: dir }))).toBe(0);
    } finally {
      process.umask(old);
    }
    expect(statSync(join(dir, 'config.json')).mode & 0o777).toBe(0o644);
  });

  it('is wired into the CLI: exit codes and messages', () => {
    const dir = join(tmp, 'cli');
    mkdirSync(dir);
    const tsx = new URL('../../../node_modules/.bin/tsx', import.meta.url).pathname;
    const cli = new URL('../../../src/cli.ts', import.meta.url).pathname;
    const first = spawnSync(tsx, [cli, 'spec', '--bundle', dir], { encoding: 'utf8' });
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).ociVersion).toBe('1.2.0');
    const second = spawnSync(tsx, [cli, 'spec', '-b', dir], { encoding: 'utf8' });
    expect(second.status).toBe(1);
    expect(second.stderr).toBe('husk: File config.json exists. Remove it first\n');
    const extra = spawnSync(tsx, [cli, 'spec', 'extra-arg'], { encoding: 'utf8', cwd: dir });
    expect(extra.status).toBe(2);
  });
});
