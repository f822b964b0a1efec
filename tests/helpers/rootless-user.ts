/**
 * A real unprivileged user for rootless tests, made by the test and removed at
 * its end: useradd, a home and an XDG_RUNTIME_DIR of its own (as logind would
 * make /run/user/UID), and optionally subordinate id ranges in /etc/subuid and
 * /etc/subgid (for newuidmap/newgidmap). Commands run as the user through
 * setpriv with no capabilities and a clean environment, as a login shell would
 * give them.
 *
 * The user must be able to read the checkout (dist/cli.js, node_modules, the
 * addon). A CI checkout may sit below a 0700 directory (/root): then the
 * checkout is bound at a path the user can reach, and unbound by remove().
 */
import { execa, type Options, type ResultPromise } from 'execa';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { constants, native } from '../../src/native/index.js';
import { repoRoot } from './husk.js';

export interface SubordinateRange {
  start: number;
  count: number;
}

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** The user's home (0700, the user's). */
  home: string;
  /** The user's XDG_RUNTIME_DIR (0700, the user's). */
  runtimeDir: string;
  /** The ranges in /etc/subuid and /etc/subgid, when asked for. */
  subuid?: SubordinateRange;
  subgid?: SubordinateRange;
  /** The checkout as the user reaches it (repoRoot, or a bind of it). */
  repo: string;
  /** dist/cli.js as the user reaches it. */
  cli: string;
  /** The environment the user's commands get (HOME, USER, XDG_RUNTIME_DIR, PATH...). */
  env: Record<string, string>;
  /** Runs a command as the user. Never rejects; 60 s timeout unless told. */
  run(command: string[], options?: Options): ResultPromise;
  /** Runs `node dist/cli.js ARGS` as the user. */
  husk(args: string[], options?: Options): ResultPromise;
  /** Removes the user, its id ranges, home and runtime dir, and the checkout's bind. */
  remove(): Promise<void>;
}

export interface TestUserOptions {
  /** Give the user 65536 subordinate uids and gids (default true). */
  subordinateIds?: boolean;
}

const SUBID_COUNT = 65536;

/** Whether `path` and every directory above it can be searched by others. */
function reachableByOthers(path: string): boolean {
  for (let p = path; ; p = dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0) return false;
    if (p === '/') return true;
  }
}

/** The first range of `count` ids from 100000 on that no line of `file` overlaps. */
function freeSubordinateStart(file: string, count: number): number {
  const taken = (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 3)
    .map((f) => ({ start: Number(f[1]), end: Number(f[1]) + Number(f[2]) }));
  let start = 100_000;
  for (;;) {
    const clash = taken.find((r) => start < r.end && start + count > r.start);
    if (clash === undefined) return start;
    start = Math.ceil(clash.end / SUBID_COUNT) * SUBID_COUNT;
  }
}

function removeLinesOf(file: string, name: string): void {
  if (!existsSync(file)) return;
  const kept = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith(`${name}:`));
  // Replaced in one rename: husk and newuidmap read the file meanwhile, and must never see it cut short.
  writeFileSync(`${file}.husk-test`, kept.length > 0 ? kept.join('\n') + '\n' : '', { mode: 0o644 });
  renameSync(`${file}.husk-test`, file);
}

/**
 * Test files run two at a time: /etc/passwd, /etc/subuid and /etc/subgid change under one lock
 * of ours (useradd and userdel lock them for themselves, but our appends and rewrites do not),
 * or a rewrite by one file's remove() drops the line another just appended.
 */
function withIdFilesLock<T>(fn: () => T): T {
  const fd = openSync('/run/husk-test-users.lock', 'a', 0o600);
  try {
    native.flock(fd, constants.LOCK_EX);
    return fn();
  } finally {
    closeSync(fd);
  }
}

export async function createTestUser(options: TestUserOptions = {}): Promise<TestUser> {
  const name = `huskrl${randomBytes(3).toString('hex')}`;
  const base = mkdtempSync('/run/husk-rootless-');
  execFileSync('chmod', ['0755', base]);
  const home = join(base, 'home');
  let subuid: SubordinateRange | undefined;
  let subgid: SubordinateRange | undefined;
  withIdFilesLock(() => {
    execFileSync('useradd', ['--no-create-home', '--home-dir', home, '--shell', '/bin/sh', '--user-group', name]);
    if (!(options.subordinateIds ?? true)) {
      // useradd gives a new user ranges of its own where login.defs sets SUB_UID_COUNT (Debian does).
      removeLinesOf('/etc/subuid', name);
      removeLinesOf('/etc/subgid', name);
    } else {
      subuid = { start: freeSubordinateStart('/etc/subuid', SUBID_COUNT), count: SUBID_COUNT };
      subgid = { start: freeSubordinateStart('/etc/subgid', SUBID_COUNT), count: SUBID_COUNT };
      writeFileSync('/etc/subuid', `${name}:${subuid.start}:${subuid.count}\n`, { flag: 'a' });
      writeFileSync('/etc/subgid', `${name}:${subgid.start}:${subgid.count}\n`, { flag: 'a' });
    }
  });
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  const runtimeDir = join(base, 'run');
  for (const dir of [home, runtimeDir]) {
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, uid, gid);
  }

  let repo = repoRoot.replace(/\/$/, '');
  let boundRepo: string | undefined;
  if (!reachableByOthers(repo)) {
    boundRepo = join(base, 'repo');
    mkdirSync(boundRepo);
    execFileSync('mount', ['--bind', repo, boundRepo]);
    execFileSync('mount', ['--make-private', boundRepo]);
    repo = boundRepo;
  }

  const env: Record<string, string> = {
    HOME: home,
    USER: name,
    LOGNAME: name,
    SHELL: '/bin/sh',
    XDG_RUNTIME_DIR: runtimeDir,
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    LANG: 'C.UTF-8',
  };
  const run = (command: string[], opts: Options = {}): ResultPromise =>
    execa('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', ...command], {
      reject: false,
      timeout: 60_000,
      cwd: home,
      ...opts,
      env: { ...env, ...(opts.env as Record<string, string> | undefined) },
      extendEnv: false,
    }) as ResultPromise;
  const cli = join(repo, 'dist', 'cli.js');

  return {
    name,
    uid,
    gid,
    home,
    runtimeDir,
    ...(subuid ? { subuid } : {}),
    ...(subgid ? { subgid } : {}),
    repo,
    cli,
    env,
    run,
    husk: (args, opts) => run([process.execPath, cli, ...args], opts),
    async remove() {
      // Whatever the user still runs goes first (userdel refuses a logged-in user).
      await execa('pkill', ['-KILL', '-u', String(uid)], { reject: false });
      withIdFilesLock(() => {
        spawnSync('userdel', ['--force', name], { stdio: 'ignore' });
        removeLinesOf('/etc/subuid', name);
        removeLinesOf('/etc/subgid', name);
      });
      if (boundRepo !== undefined) {
        await execa('umount', [boundRepo], { reject: false });
        // Never remove through a bind that is still there: that would be the checkout itself.
        if (readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${boundRepo} `)) throw new Error(`${boundRepo} is still mounted; left in place`);
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/**
 * The user's first range in /etc/subuid or /etc/subgid: the one newuidmap and husk's
 * store map from id 1 on (useradd may have added one before the helper's).
 */
export function firstSubordinateRange(user: TestUser, file: '/etc/subuid' | '/etc/subgid'): SubordinateRange {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${user.name}:`));
  if (line === undefined) throw new Error(`${user.name} has no range in ${file}`);
  const [, start, count] = line.split(':');
  return { start: Number(start), count: Number(count) };
}

/** The host uid of `id` in the user's namespace as husk's store maps it: 0 is the user, n > 0 the first range's n-th id. */
export const hostUidOf = (user: TestUser, id: number): number => (id === 0 ? user.uid : firstSubordinateRange(user, '/etc/subuid').start + id - 1);
/** The host gid of `id`, as hostUidOf. */
export const hostGidOf = (user: TestUser, id: number): number => (id === 0 ? user.gid : firstSubordinateRange(user, '/etc/subgid').start + id - 1);

/** The layer directories of the user's default image store (~/.local/share/husk). */
export function storeLayerDirs(user: TestUser): string[] {
  const layers = join(user.home, '.local/share/husk/layers');
  return existsSync(layers) ? readdirSync(layers).map((l) => join(layers, l, 'diff')) : [];
}

/** "uid:gid" of a path (not following a symlink). */
export function ownerOf(path: string): string {
  const st = lstatSync(path);
  return `${st.uid}:${st.gid}`;
}

/** Whether the host's mount table (this process's) names `text`. */
export const hostMountsMention = (text: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').includes(text);
