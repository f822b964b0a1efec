/**
 * Real container engines for tests, each started by the test itself with private roots, run dirs,
 * sockets and data dirs under one test directory (never the host's defaults), their containers beneath
 * the test process's own cgroup, and everything stopped and removed at the end: by `stop()` (call it in
 * afterAll), and by a process-exit guard if the test process dies first.
 *
 * - podman 4.3: daemonless; --root/--runroot/--tmpdir, cgroupfs manager, file events, a private
 *   containers.conf/storage.conf/registries.conf; runtimes by path (`--runtime`).
 * - containerd 1.6: its own config.toml, root, state, sockets; driven with ctr (`--runc-binary`).
 * - dockerd 20.10: --data-root, --exec-root, a private -H socket, --pidfile, no iptables, no bridge,
 *   a daemon.json with `runtimes`, on a containerd of its own.
 */
import { execa, type Options, type ResultPromise } from 'execa';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mountsUnder } from '../../src/sys/mountinfo.js';

// Free of vitest, so that scripts (the bench) can start engines too.
const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** The runtimes every engine test compares: runc, the reference, and husk (the checkout's CLI, a node script). */
export const runtimes = { runc: '/usr/sbin/runc', husk: cliPath } as const;
export type RuntimeName = keyof typeof runtimes;
export const runtimeNames = Object.keys(runtimes) as RuntimeName[];

/** podman cannot raise limits without CAP_SYS_RESOURCE (absent here), so it is told to keep them. */
export const podmanUlimits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

const cleanups = new Set<() => void>();
let guardInstalled = false;
/** Runs the registered cleanups synchronously when the process exits before stop() did. */
function guard(cleanup: () => void): () => void {
  if (!guardInstalled) {
    guardInstalled = true;
    // Newest first: dockerd before the containerd it runs on.
    process.on('exit', () => {
      for (const c of [...cleanups].reverse()) c();
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        for (const c of [...cleanups].reverse()) c();
        process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      });
    }
  }
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    cleanups.delete(once);
    cleanup();
  };
  cleanups.add(once);
  return once;
}

/** Lazily unmounts everything mounted beneath `dir` (deepest first), then removes it. */
export function removeTree(dir: string): void {
  for (const mount of mountsUnder(dir).sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', mount]);
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

// ---- cgroups -------------------------------------------------------------------------------

interface Hierarchy {
  mount: string;
  /** This process's cgroup in it. */
  own: string;
  v2: boolean;
}

function hierarchies(): Hierarchy[] {
  const own = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, controllers = '', path = '/'] = line.split(':');
    own.set(controllers, path);
  }
  const found: Hierarchy[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const [fstype, , options = ''] = right.split(' ');
    const mount = left.split(' ')[4] ?? '';
    if (fstype === 'cgroup2') found.push({ mount, own: own.get('') ?? '/', v2: true });
    else if (fstype === 'cgroup') {
      const opts = options.split(',');
      for (const [controllers, path] of own) {
        if (controllers !== '' && controllers.split(',').every((c) => opts.includes(c) || opts.includes(`name=${c.replace(/^name=/, '')}`))) {
          found.push({ mount, own: path, v2: false });
          break;
        }
      }
    }
  }
  return found;
}

/**
 * A cgroup parent for an engine's containers, beneath this process's own cgroup: on cgroup v2 the
 * unified path; on hybrid and v1 hosts the deepest path among the v1 controllers (the others are at
 * an ancestor of it here, so it lies beneath the process's cgroup in every hierarchy). `remove()`
 * deletes it, and any ancestor of it that it had to create, in every hierarchy.
 */
export function makeCgroupParent(tag: string): { path: string; remove(): void } {
  const all = hierarchies();
  const v1 = all.filter((h) => !h.v2);
  const base = (v1.length > 0 ? v1 : all).map((h) => h.own).sort((a, b) => b.length - a.length)[0] ?? '/';
  const path = `${base === '/' ? '' : base}/${tag}`;
  // The ancestors of `path` missing now, per hierarchy: runc and husk create them, remove() removes them.
  const created = all.map((h) => {
    const dirs: string[] = [];
    let rel = path;
    while (rel !== '' && rel !== '/') {
      if (!existsSync(join(h.mount, rel))) dirs.push(join(h.mount, rel));
      rel = rel.slice(0, rel.lastIndexOf('/'));
    }
    return dirs;
  });
  const removeBelow = (dir: string): void => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const sub = join(dir, e);
      try {
        if (statSync(sub).isDirectory()) removeBelow(sub);
      } catch {
        // gone
      }
    }
    try {
      rmdirSync(dir);
    } catch {
      // busy or gone: reported by the caller's leak checks
    }
  };
  return {
    path,
    remove() {
      for (const h of all) removeBelow(join(h.mount, path));
      for (const dirs of created) for (const d of dirs) removeBelow(d);
    },
  };
}

/** The cgroup directories left under `parent` in any hierarchy (each a path relative to its mount). */
export function cgroupsUnder(parent: string): string[] {
  const left: string[] = [];
  for (const h of hierarchies()) {
    const walk = (rel: string): void => {
      let entries: string[] = [];
      try {
        entries = readdirSync(join(h.mount, rel), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
      } catch {
        return;
      }
      for (const e of entries) {
        left.push(`${h.mount}${rel}/${e}`);
        walk(`${rel}/${e}`);
      }
    };
    walk(parent);
  }
  return left;
}

// ---- common ---------------------------------------------------------------------------------

export interface Engine {
  /** The test directory holding everything the engine made. */
  dir: string;
  /** The cgroup parent the engine's containers go beneath. */
  cgroupParent: string;
  /** The engine's client (podman, ctr, docker) with its private flags; never rejects. */
  cli(args: string[], options?: Options): ResultPromise;
  /** The client's argv and environment, for running it some other way (on a pty...). */
  command: string[];
  env: Record<string, string>;
  /** Stops the engine and removes its directory and cgroups (idempotent). */
  stop(): Promise<void>;
}

function makeTestDir(name: string): string {
  mkdirSync('/run/husk-engines', { recursive: true, mode: 0o700 });
  return mkdtempSync(`/run/husk-engines/${name}-`);
}

/** Waits (bounded) for `ready()` to hold, checking again on each interval; fails early if the daemon exits. */
async function waitUntil(what: string, ready: () => Promise<boolean>, daemon: ChildProcess | undefined, logFile: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  daemon?.once('exit', (code, signal) => (exited = `exited (${code ?? signal})`));
  for (;;) {
    if (exited !== undefined) throw new Error(`${what} ${exited}:\n${tail(logFile)}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms:\n${tail(logFile)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

function killDaemon(child: ChildProcess | undefined, pidFile?: string): void {
  const pids = new Set<number>();
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) pids.add(child.pid);
  if (pidFile !== undefined && existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (pid > 0) pids.add(pid);
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

async function stopDaemon(child: ChildProcess | undefined, timeoutMs = 20_000): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

// ---- podman ---------------------------------------------------------------------------------

export interface Podman extends Engine {
  /** `podman --runtime <path of runtime>` plus the private flags. */
  withRuntime(runtime: RuntimeName): (args: string[], options?: Options) => ResultPromise;
}

export function startPodman(): Podman {
  const dir = makeTestDir('podman');
  const cgroup = makeCgroupParent(`husk-engines-${process.pid}-podman`);
  for (const sub of ['root', 'runroot', 'tmp', 'networks', 'home']) mkdirSync(join(dir, sub));
  writeFileSync(
    join(dir, 'containers.conf'),
    [
      '[containers]',
      `cgroupns = "private"`,
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${dir}/events.log"`,
      `tmp_dir = "${dir}/tmp"`,
      '[network]',
      `network_config_dir = "${dir}/networks"`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/runroot"\n`);
  writeFileSync(join(dir, 'registries.conf'), '');
  const env = {
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
    XDG_CONFIG_HOME: join(dir, 'home'),
    HOME: join(dir, 'home'),
  };
  const flags = ['--root', `${dir}/root`, '--runroot', `${dir}/runroot`, '--tmpdir', `${dir}/tmp`, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'overlay'];
  const cli = (args: string[], options: Options = {}): ResultPromise =>
    // cwd: conmon leaves files (an "oom" marker) in its working directory.
    execa('podman', [...flags, ...args], { reject: false, timeout: 120_000, cwd: dir, ...options, env: { ...process.env, ...env, ...(options.env ?? {}) } }) as ResultPromise;
  const cleanupSync = guard(() => {
    spawnSync('podman', [...flags, 'rm', '--all', '--force', '--time', '0'], { env: { ...process.env, ...env }, cwd: dir, timeout: 60_000 });
    removeTree(dir);
    cgroup.remove();
  });
  return {
    dir,
    cgroupParent: cgroup.path,
    cli,
    command: ['podman', ...flags],
    env,
    withRuntime: (runtime) => (args, options) => cli(['--runtime', runtimes[runtime], ...args], options),
    async stop() {
      await cli(['rm', '--all', '--force', '--time', '0']);
      cleanupSync();
    },
  };
}

// ---- containerd -----------------------------------------------------------------------------

export interface Containerd extends Engine {
  /** The containerd gRPC socket. */
  socket: string;
  /** ctr's flags for a container on `runtime`: the runc-compatible binary and its state root. */
  runtimeFlags(runtime: RuntimeName): string[];
}

export async function startContainerd(options: { name?: string; cgroupTag?: string } = {}): Promise<Containerd> {
  const dir = makeTestDir(options.name ?? 'containerd');
  const cgroup = makeCgroupParent(options.cgroupTag ?? `husk-engines-${process.pid}-containerd`);
  const socket = join(dir, 'containerd.sock');
  const log = join(dir, 'containerd.log');
  // Only what ctr and dockerd need: no CRI, no snapshotters but overlayfs/native, no /opt plugin dir.
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      `plugin_dir = ""`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${socket}.ttrpc"`,
      '[debug]',
      '  address = ""',
      '  level = "info"',
      '[metrics]',
      '  address = ""',
      // The v1 runtime is never used, but the tasks service needs it loaded: keep its runc root private.
      '[plugins."io.containerd.runtime.v1.linux"]',
      `  runtime_root = "${dir}/runtime-v1"`,
      '',
    ].join('\n'),
  );
  const out = openSync(log, 'a');
  const daemon = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', out, out], cwd: dir });
  closeSync(out);
  const ctr = (args: string[], opts: Options = {}): ResultPromise =>
    execa('ctr', ['--address', socket, ...args], { reject: false, timeout: 120_000, cwd: dir, ...opts }) as ResultPromise;
  const cleanupSync = guard(() => {
    killShims(dir);
    killDaemon(daemon);
    removeTree(dir);
    cgroup.remove();
  });
  await waitUntil('containerd', async () => existsSync(socket) && (await ctr(['version'])).exitCode === 0, daemon, log);
  return {
    dir,
    socket,
    cgroupParent: cgroup.path,
    cli: (args, opts) => ctr(['--namespace', 'husk-tests', ...args], opts),
    command: ['ctr', '--address', socket, '--namespace', 'husk-tests'],
    env: {},
    runtimeFlags: (runtime) => ['--runc-binary', runtimes[runtime], '--runc-root', join(dir, 'runtime-root', runtime)],
    async stop() {
      // Every task and container of every namespace, then the daemon; then whatever shim is left.
      for (const ns of String((await ctr(['namespaces', 'ls', '-q'])).stdout).split('\n').filter(Boolean)) {
        for (const id of String((await ctr(['-n', ns, 'tasks', 'ls', '-q'])).stdout).split('\n').filter(Boolean)) {
          await ctr(['-n', ns, 'tasks', 'kill', '-s', 'SIGKILL', id]);
          await ctr(['-n', ns, 'tasks', 'rm', '-f', id]);
        }
        for (const id of String((await ctr(['-n', ns, 'containers', 'ls', '-q'])).stdout).split('\n').filter(Boolean)) await ctr(['-n', ns, 'containers', 'rm', id]);
      }
      await stopDaemon(daemon);
      cleanupSync();
    },
  };
}

/** containerd's shims outlive it by design: kill those of this test's containerd (their command line names its socket). */
function killShims(dir: string): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline[0]?.includes('containerd-shim') && cmdline.some((a) => a.startsWith(dir))) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

// ---- dockerd --------------------------------------------------------------------------------

export interface Dockerd extends Engine {
  containerd: Containerd;
}

/** dockerd on a containerd of its own, with husk and runc as runtimes named "husk" and "runc" (and `extraRuntimes`, name to path). */
export async function startDockerd(extraRuntimes: Record<string, string> = {}): Promise<Dockerd> {
  const containerd = await startContainerd({ name: 'docker-containerd', cgroupTag: `husk-engines-${process.pid}-docker` });
  const dir = containerd.dir;
  const log = join(dir, 'dockerd.log');
  const socket = join(dir, 'docker.sock');
  const pidFile = join(dir, 'docker.pid');
  for (const sub of ['data', 'exec', 'client']) mkdirSync(join(dir, sub));
  writeFileSync(
    join(dir, 'daemon.json'),
    JSON.stringify({ runtimes: { husk: { path: runtimes.husk }, ...Object.fromEntries(Object.entries(extraRuntimes).map(([name, path]) => [name, { path }])) }, 'deprecated-key-path': join(dir, 'key.json') }, null, 2),
  );
  const out = openSync(log, 'a');
  const daemon = spawn(
    'dockerd',
    [
      '--config-file', join(dir, 'daemon.json'),
      '--data-root', join(dir, 'data'),
      '--exec-root', join(dir, 'exec'),
      '-H', `unix://${socket}`,
      '--pidfile', pidFile,
      '--containerd', containerd.socket,
      '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false', '--bridge=none',
      '--userland-proxy=false',
      '--exec-opt', 'native.cgroupdriver=cgroupfs',
      '--cgroup-parent', containerd.cgroupParent,
      '--storage-driver', 'overlay2',
      '--log-level', 'warn',
    ],
    { stdio: ['ignore', out, out], cwd: dir },
  );
  closeSync(out);
  const env = { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'client') };
  const docker = (args: string[], opts: Options = {}): ResultPromise =>
    execa('docker', args, { reject: false, timeout: 120_000, cwd: dir, ...opts, env: { ...process.env, ...env, ...(opts.env ?? {}) } }) as ResultPromise;
  const cleanupSync = guard(() => {
    killDaemon(daemon, pidFile);
  });
  await waitUntil('dockerd', async () => existsSync(socket) && (await docker(['version'])).exitCode === 0, daemon, log);
  return {
    dir,
    containerd,
    cgroupParent: containerd.cgroupParent,
    cli: docker,
    command: ['docker'],
    env,
    async stop() {
      const ids = String((await docker(['ps', '-aq'])).stdout).split('\n').filter(Boolean);
      if (ids.length > 0) await docker(['rm', '-f', ...ids]);
      await stopDaemon(daemon);
      cleanupSync();
      await containerd.stop();
    },
  };
}
