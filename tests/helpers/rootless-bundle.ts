/**
 * OCI bundles owned by a rootless test user (tests/helpers/rootless-user.ts): a busybox-static
 * rootfs in the user's home, its config.json written by `husk spec --rootless` (or `runc spec
 * --rootless`) run as that user, then changed by the test. Everything is the user's, as a bundle
 * a user made for itself would be.
 */
import { chownSync, copyFileSync, lchownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../../src/spec/types.js';
import { runcBinary } from './runc.js';
import type { TestUser } from './rootless-user.js';

const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'id', 'ls', 'cat', 'touch', 'stat', 'sleep', 'mount', 'ps', 'echo', 'true', 'grep', 'chown', 'awk'];

export interface RootlessBundle {
  dir: string;
  spec: Spec;
  /** Rewrites config.json with `spec` (after the test changed it). */
  save(): void;
}

/** Makes `name` in the user's home: rootfs/bin/busybox and its applets, and config.json from `generator spec --rootless`. */
export async function makeRootlessBundle(user: TestUser, name: string, generator: 'husk' | 'runc' = 'husk'): Promise<RootlessBundle> {
  const dir = join(user.home, name);
  const bin = join(dir, 'rootfs', 'bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync(BUSYBOX, join(bin, 'busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(bin, applet));
  for (const sub of ['', 'rootfs', 'rootfs/bin', 'rootfs/bin/busybox']) chownSync(join(dir, sub), user.uid, user.gid);
  for (const applet of APPLETS) lchownSync(join(bin, applet), user.uid, user.gid);
  const command = generator === 'husk' ? [process.execPath, user.cli, 'spec', '--rootless'] : [runcBinary ?? 'runc', 'spec', '--rootless'];
  const result = await user.run(command, { cwd: dir });
  if (result.exitCode !== 0) throw new Error(`${command.join(' ')} as ${user.name}: ${String(result.stderr)}`);
  const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
  return {
    dir,
    spec,
    save() {
      writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
    },
  };
}
