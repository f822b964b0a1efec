/**
 * Throwaway OCI bundles for integration tests.
 *
 * makeTestBundle(): an otherwise empty rootfs holding only the static
 * husk-testinit (tests/helpers/testinit.ts builds it) as /bin/testinit, so what a
 * container sees is exactly what the runtime set up.
 *
 * makeHostToolsBundle(): a rootfs made of read-only bind mounts of the host's
 * /usr, /bin, /lib*, /etc..., to run a real shell or ps inside a container.
 *
 * Bundles live under os.tmpdir() (never /run, which holds runtime state).
 * cleanup() refuses to delete a bundle that still has something mounted under
 * it: that is a leak of the code under test, to be reported, not hidden.
 */
import { readlinkSync, lstatSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCgroup2UnifiedMode } from '../../src/cgroups/index.js';
import { defaultSpec } from '../../src/spec/defaults.js';
import type { Mount, Spec } from '../../src/spec/types.js';
import { mountsUnder } from '../../src/sys/mountinfo.js';
import { ensureTestinit, testinitBinary } from './testinit.js';

/** Mount points (from /proc/self/mountinfo) at or below `dir`, in mount-table order. */
export { mountsUnder };

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The static multi-tool, see native/tools/testinit.c. */
export { testinitBinary };

/** The test user written to the rootfs's /etc/passwd and /etc/group. */
export const testUser = { name: 'tester', uid: 1000, gid: 1000 } as const;

export interface TestBundleOptions {
  /** Arguments for testinit: process.args becomes ["/bin/testinit", ...args] (default ["true"]). */
  args?: string[];
  /** Edits the spec before config.json is written. */
  mutate?: (spec: Spec) => void;
  /** Extra files in the rootfs: path relative to the rootfs -> content. */
  files?: Record<string, string>;
}

export interface TestBundle {
  /** The bundle directory (holds config.json and rootfs/). */
  readonly dir: string;
  readonly rootfs: string;
  readonly configPath: string;
  /** The spec as written to config.json. */
  readonly spec: Spec;
  /** Edits the spec and rewrites config.json. */
  updateSpec(mutate: (spec: Spec) => void): Promise<void>;
  /** Removes the bundle; throws if anything is still mounted under it. */
  cleanup(): Promise<void>;
}

/**
 * The config a bundle starts from: `husk spec`'s default (runc's example spec:
 * pid, net, ipc, uts, mount namespaces; proc, /dev tmpfs, devpts, shm, mqueue,
 * sysfs, cgroup mounts; masked and read-only paths; a read-only root), with
 * terminal off so tests can capture stdout.
 */
export function baseTestSpec(args: string[]): Spec {
  const spec = defaultSpec({ args, terminal: false, cgroupNamespace: isCgroup2UnifiedMode() });
  spec.process!.terminal = false; // explicit, though false is the spec's default
  return spec;
}

function bundleBaseDir(): string {
  const base = tmpdir();
  // /run holds runtime state (husk's own --root default); keep test bundles apart
  return base === '/run' || base.startsWith('/run/') ? '/tmp' : base;
}

async function writeSpec(configPath: string, spec: Spec): Promise<void> {
  await writeFile(configPath, JSON.stringify(spec, null, 2) + '\n');
}

async function createBundle(
  spec: Spec,
  populate: (rootfs: string) => Promise<void>,
  mutate: ((spec: Spec) => void) | undefined,
): Promise<TestBundle> {
  const dir = await mkdtemp(join(bundleBaseDir(), 'husk-test-'));
  // mkdtemp makes 0700; a container user (or a user namespace) must be able to traverse it
  await chmod(dir, 0o755);
  const rootfs = join(dir, 'rootfs');
  const configPath = join(dir, 'config.json');
  let removed = false;
  const cleanup = async (): Promise<void> => {
    if (removed) return;
    const leftovers = mountsUnder(dir);
    if (leftovers.length > 0) {
      throw new Error(`refusing to remove test bundle ${dir}: still mounted under it: ${leftovers.join(', ')}`);
    }
    await rm(dir, { recursive: true, force: true });
    removed = true;
  };
  try {
    await mkdir(rootfs, { mode: 0o755 });
    await chmod(rootfs, 0o755); // mode given to mkdir is subject to the umask
    await populate(rootfs);
    mutate?.(spec);
    await writeSpec(configPath, spec);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return {
    dir,
    rootfs,
    configPath,
    spec,
    async updateSpec(edit) {
      edit(spec);
      await writeSpec(configPath, spec);
    },
    cleanup,
  };
}

async function writeUsersAndGroups(rootfs: string): Promise<void> {
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(
    join(rootfs, 'etc', 'passwd'),
    `root:x:0:0:root:/root:/bin/sh\n${testUser.name}:x:${testUser.uid}:${testUser.gid}:${testUser.name}:/home/${testUser.name}:/bin/sh\n`,
  );
  await writeFile(join(rootfs, 'etc', 'group'), `root:x:0:\n${testUser.name}:x:${testUser.gid}:\n`);
}

/** Builds testinit if the global setup has not (the bench uses these bundles too). */
function requireTestinit(): void {
  ensureTestinit();
}

/**
 * A bundle whose rootfs holds only /bin/testinit, the usual empty directories,
 * /etc/passwd and /etc/group (root and the test user, uid 1000), and a marker
 * file /etc/husk-test-rootfs naming the bundle (escape tests compare against it).
 */
export async function makeTestBundle(options: TestBundleOptions = {}): Promise<TestBundle> {
  requireTestinit();
  const spec = baseTestSpec(['/bin/testinit', ...(options.args ?? ['true'])]);
  return createBundle(
    spec,
    async (rootfs) => {
      for (const sub of ['bin', 'proc', 'sys', 'dev', 'etc', 'run', 'root', `home/${testUser.name}`]) {
        await mkdir(join(rootfs, sub), { recursive: true, mode: 0o755 });
      }
      await mkdir(join(rootfs, 'tmp'));
      await chmod(join(rootfs, 'tmp'), 0o1777);
      await copyFile(testinitBinary, join(rootfs, 'bin', 'testinit'));
      await chmod(join(rootfs, 'bin', 'testinit'), 0o755);
      await writeUsersAndGroups(rootfs);
      await writeFile(join(rootfs, 'etc', 'husk-test-rootfs'), `husk test rootfs ${rootfs}\n`);
      await writeExtraFiles(rootfs, options.files);
    },
    options.mutate,
  );
}

async function writeExtraFiles(rootfs: string, files: Record<string, string> | undefined): Promise<void> {
  for (const [path, content] of Object.entries(files ?? {})) {
    const target = join(rootfs, path);
    if (!target.startsWith(rootfs + '/')) throw new Error(`files: "${path}" is outside the rootfs`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
}

/** The host paths a host-tools rootfs is made of, in mount order. */
export const hostToolPaths = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/libx32', '/lib64', '/etc'] as const;

export interface HostToolsBundleOptions {
  /** process.args (default ["/bin/sh", "-c", "true"]). */
  args?: string[];
  mutate?: (spec: Spec) => void;
}

/**
 * A bundle whose rootfs is the host's own /usr, /bin, /sbin, /lib*, /etc as
 * read-only bind mounts (config.json `mounts`, made by the runtime inside the
 * container, nothing mounted on the host). A host path that is a symlink
 * (merged /usr: /bin -> usr/bin) is reproduced as the same symlink; one that
 * does not exist is skipped. testinit is there too, as /testinit.
 */
export async function makeHostToolsBundle(options: HostToolsBundleOptions = {}): Promise<TestBundle> {
  requireTestinit();
  const spec = baseTestSpec(options.args ?? ['/bin/sh', '-c', 'true']);
  const binds: Mount[] = [];
  return createBundle(
    spec,
    async (rootfs) => {
      for (const sub of ['proc', 'sys', 'dev', 'run', 'root']) await mkdir(join(rootfs, sub), { mode: 0o755 });
      await mkdir(join(rootfs, 'tmp'));
      await chmod(join(rootfs, 'tmp'), 0o1777);
      for (const hostPath of hostToolPaths) {
        let stat;
        try {
          stat = lstatSync(hostPath);
        } catch {
          continue; // e.g. no /lib32 on this host
        }
        const inRootfs = join(rootfs, hostPath);
        if (stat.isSymbolicLink()) {
          await symlink(readlinkSync(hostPath), inRootfs);
        } else if (stat.isDirectory()) {
          await mkdir(inRootfs, { mode: 0o755 });
          binds.push({
            destination: hostPath,
            type: 'bind',
            source: hostPath,
            options: ['rbind', 'ro', 'nosuid', 'nodev'],
          });
        }
      }
      await copyFile(testinitBinary, join(rootfs, 'testinit'));
      await chmod(join(rootfs, 'testinit'), 0o755);
    },
    (s) => {
      // the host directories first, so /proc, /dev... stay where the base spec puts them
      s.mounts = [...binds, ...(s.mounts ?? [])];
      options.mutate?.(s);
    },
  );
}
