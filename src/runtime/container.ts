/**
 * The container lifecycle of runtime.md, as a TypeScript API the CLI verbs are
 * thin glue over: createContainer, startContainer, containerState,
 * killContainer, deleteContainer, runContainer, listContainers.
 */
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { release } from 'node:os';
import {
  type CgroupLayout,
  type CgroupManager,
  createCgroupManager,
  createSystemdCgroupManager,
  detectCgroups,
  resolveCgroupsPath,
  validateResources,
  type LinuxResources,
} from '../cgroups/index.js';
import { native } from '../native/index.js';
import type { CgroupMountSource } from '../plan/container.js';
import { planContainer } from '../plan/container.js';
import { writePidFile } from './pid-file.js';
import { SyncPoint } from '../plan/ops.js';
import { chainIds } from '../image/digest.js';
// The image store's code (tar-stream, zlib, zstd, crypto) loads for a container made from an image only.
import type { ImageStore } from '../image/store.js';
import { loadBundle } from '../spec/load.js';
import { validateSpec } from '../spec/validate.js';
import type { Spec } from '../spec/types.js';
import { ChildHandle, type Exit, exitStatusCode } from './child.js';
import { withDefaultDevices } from './devices.js';
import { FdKind } from './channel.js';
import { deliverConsole } from './console.js';
import { moveNetDevices } from './net-devices.js';
import { sendToSeccompListener } from './seccomp-listener.js';
import { prepareDetachedMounts } from './detached-mounts.js';
import { ContainerError, runcPhrase, runcWords } from './errors.js';
import { runHooks } from './hooks.js';
import { checkSpecSupport, lastCapability } from './host-support.js';
import { type ImageRunOptions, imageSpec, withStoreUserNamespace } from './image-spec.js';
import { checkPreservedFds } from './inherited-fds.js';
import { launchPlan } from './launch.js';
import { addListenFds, addNotifySocket, makeNotifyDir } from './notify.js';
import { checkProcSysMountpoints, joinsOwnNetworkNs } from './preflight.js';
import { planIdMapWrites, setgroupsAllowedHere } from './id-maps.js';
import { adaptSpecForRootless, checkRootlessDeviceRules, checkStateRootOwner, checkRootlessProcess, refuseLimitsWithoutCgroup, rootlessCgroup } from './rootless.js';
import { writeIdMaps } from './spawn.js';
import { cgroupOf, ownCgroups } from '../cgroups/detect.js';
import { inUserNamespace, isRootless, isUnprivilegedUser } from '../sys/rootless.js';
import { type ContainerRecord, procStat, StateStore, toOciState, validateId } from './state.js';
import { deleteContainer, releaseGate, removeImageLayer, warnTo } from './lifecycle.js';

export {
  containerCgroup,
  containerProcesses,
  containerState,
  deleteContainer,
  killContainer,
  listContainers,
  type ListEntry,
  managerOf,
  startContainer,
  statusOf,
} from './lifecycle.js';

export interface RuntimeOptions {
  /** State directory (runc's --root). */
  root: string;
  /** Parent of relative cgroupsPaths ("self" = this process's own cgroup). */
  cgroupParent?: string;
  /**
   * runc's --systemd-cgroup: systemd owns the cgroup, a transient scope made from a
   * "slice:prefix:name" cgroupsPath (absent: system.slice:husk:ID). Pure cgroup v2 hosts.
   */
  systemdCgroup?: boolean;
  /** Called with each step when --debug is on. */
  debug?: (message: string) => void;
  /** Where warnings go (failed poststart/poststop hooks); default stderr. */
  warn?: (message: string) => void;
}

export interface CreateOptions {
  id: string;
  /** A bundle directory holding config.json and the rootfs. */
  bundle?: string;
  /** Or an in-memory config whose rootfs is a fresh tmpfs (the embedded default). */
  generated?: { spec: Spec; symlinks: [string, string][] };
  /**
   * Or an image of the store: the rootfs is an overlay of its layers with the
   * container's own upper layer, mounted here before the init is cloned and
   * unmounted by delete; the config is the image's over runc's defaults.
   */
  image?: ImageRunOptions;
  /** Replace process.args of the bundle's config. */
  args?: string[];
  pidFile?: string;
  /** runc's --console-socket: the pty master is sent there with SCM_RIGHTS. */
  consoleSocket?: string;
  /** Receives the pty master when the process has a terminal and no console socket (run attaches it). */
  onConsole?: (masterFd: number) => void;
  noPivot?: boolean;
  /** runc's --no-new-keyring: the container keeps the caller's session keyring. */
  noNewKeyring?: boolean;
  preserveFds?: number;
  /** The container's stdio fds (default: this process's 0, 1, 2). */
  stdio?: [number, number, number];
  /**
   * The caller's NOTIFY_SOCKET (systemd's sd_notify): the container gets a socket of its
   * own at /run/notify/notify.sock, which `start` relays to this one (src/runtime/notify.ts).
   */
  notifySocket?: string;
  /** Socket-activation fds (LISTEN_FDS) from fd 3, kept for the process ahead of preserveFds. */
  listenFds?: number;
}

export interface StartOptions {
  /** The caller's NOTIFY_SOCKET: READY from the container is relayed there (runc start). */
  notifySocket?: string;
}

export interface Container {
  readonly id: string;
  readonly pid: number;
  /** The init, as a child of this process: wait() reaps it. Lost when this process exits. */
  readonly init: ChildHandle;
}

/** Creates the container and leaves its init waiting at the start gate. */
export async function createContainer(rt: RuntimeOptions, options: CreateOptions): Promise<Container> {
  const debug = rt.debug ?? (() => {});
  const store = new StateStore(rt.root);
  const { id } = options;
  validateId(id);
  if (store.exists(id)) throw new ContainerError(runcWords(runcPhrase.exists, `"${id}"`), 'EEXIST');
  // The helpers the clone execs are sealed into memfds on another thread meanwhile (once per process).
  native.prepareLaunch();

  // Everything that can be refused is refused before anything exists.
  let spec: Spec;
  let bundleDir: string;
  let rootfs: string;
  let imageLayer: { store: ImageStore; image: ReturnType<ImageStore['getImage']>; anonymousVolumes: string[]; overlayOptions: string[] } | undefined;
  if (options.image !== undefined) {
    const { ImageStore, storeDir } = await import('../image/store.js');
    const images = new ImageStore(storeDir(options.image.store));
    const image = images.getImage(options.image.ref);
    const dir = images.containerLayerDir(rt.root, id);
    const made = imageSpec(images.imageConfig(image), imageLowers(images, image), id, options.image, (i) => `${dir}/volumes/${i}`);
    // An unprivileged user's container maps as its store (uid 0 of a user namespace has its ids already).
    if (images.unprivileged) withStoreUserNamespace(made.spec);
    spec = validateSpec(made.spec);
    bundleDir = store.dir(id);
    rootfs = `${dir}/merged`;
    // Layers marked with user.overlay.* xattrs (a rootless store) need `userxattr`.
    imageLayer = { store: images, image, anonymousVolumes: made.anonymousVolumes, overlayOptions: images.overlayXattrs() === 'user' ? ['userxattr'] : [] };
  } else if (options.generated !== undefined) {
    spec = validateSpec(options.generated.spec);
    bundleDir = store.dir(id);
    rootfs = `${bundleDir}/rootfs`;
  } else {
    const bundle = await loadBundle(options.bundle ?? '.');
    spec = bundle.spec;
    bundleDir = bundle.dir;
    rootfs = bundle.rootfs;
  }
  if (options.args !== undefined && spec.process !== undefined) spec.process.args = options.args;
  for (const warning of checkSpecSupport(spec)) warnTo(rt)(`warning: ${warning}`);
  // Rootless: a user namespace always (added when the config has none), see ./rootless.ts.
  const rootless = isRootless();
  if (rootless) {
    checkStateRootOwner(rt.root);
    const changes = adaptSpecForRootless(spec);
    if (changes.addedUserNamespace) debug('rootless: added a user namespace mapping uid and gid 0 to the caller\'s own');
    for (const dropped of changes.droppedMountOptions) debug(`rootless: dropped ${dropped} (not mapped in the user namespace)`);
  }
  // What `exec` starts from is the config's process, without what systemd passed to this
  // create (runc exec reads config.json again): its fds and socket are the init's alone.
  const configProcess = spec.process === undefined ? undefined : structuredClone(spec.process);
  if (options.notifySocket !== undefined) addNotifySocket(spec, store.dir(id));
  const listenFds = options.listenFds ?? 0;
  addListenFds(spec, listenFds);
  if (spec.process?.terminal && options.consoleSocket === undefined && options.onConsole === undefined) {
    throw new ContainerError('the process has a terminal (process.terminal): give --console-socket, or run it in the foreground with `husk run`', 'EINVAL');
  }
  checkProcSysMountpoints(spec, rootfs);
  checkPreservedFds(options.preserveFds ?? 0, 3 + listenFds);
  const layout = detectCgroups();
  const userNs = (spec.linux?.namespaces ?? []).some((n) => n.type === 'user' && !n.path);
  // Checked before anything exists: a mapping this caller may not write fails here.
  const idMaps = userNs ? planIdMapWrites(spec.linux?.uidMappings, spec.linux?.gidMappings) : undefined;
  // Sharing husk's own user namespace (rootless, as root of one), its setgroups rule holds.
  const setgroups = idMaps?.setgroupsAllowed ?? setgroupsAllowedHere();
  let resources: LinuxResources = { ...spec.linux?.resources, devices: withDefaultDevices(spec.linux?.resources?.devices) };
  let cgroup: CgroupManager | undefined;
  if (rootless) {
    checkRootlessProcess(spec, setgroups);
    // No device cgroup without root: refused if a rule would deny something, else not written.
    checkRootlessDeviceRules(spec.linux?.resources?.devices);
    resources = { ...spec.linux?.resources };
    delete resources.devices;
    // With --systemd-cgroup, systemd (the user's manager, through its bus) decides.
    const placement = rt.systemdCgroup ? { delegated: true as const } : rootlessCgroup(resolveCgroupsPath(spec.linux?.cgroupsPath, id, rt.cgroupParent), layout);
    if (placement.delegated) {
      validateResources(resources, layout);
      cgroup = newCgroupManager(rt, spec, id, layout);
    } else {
      refuseLimitsWithoutCgroup(resources, placement.why);
      debug(`rootless: no cgroup (${placement.why})`);
    }
  } else {
    validateResources(resources, layout);
    cgroup = newCgroupManager(rt, spec, id, layout);
  }
  const gatePath = store.gatePath(id);
  // The child is born in its cgroup2 cgroup (clone3 CLONE_INTO_CGROUP: pure v2, and the cgroup2
  // tree of a hybrid host) and moves itself into its v1 ones: no cgroup.procs write by us, no
  // moment outside its limits. A systemd scope is made with its first process instead.
  const bornInCgroup = cgroup !== undefined && !cgroup.placesFirstProcess;
  const cgroupTasks = bornInCgroup ? v1TasksFiles(cgroup!) : undefined;
  // Placed by us: in a systemd scope, or in v1 cgroups the child could not write itself into.
  const placeChild = cgroup !== undefined && (!bornInCgroup || (layout.mode !== 'v2' && (cgroupTasks ?? []).length === 0));
  const plan = planContainer({
    spec,
    rootfs,
    bundle: bundleDir,
    gatePath,
    noPivot: options.noPivot ?? false,
    preserveFds: listenFds + (options.preserveFds ?? 0),
    lastCap: lastCapability(),
    cgroupMount: cgroupMountFor(cgroup, layout, spec, (userNs || joinsUserNs(spec) || (rootless && inUserNamespace())) && !newNetworkNs(spec)),
    ...(cgroupTasks !== undefined && { cgroupTasks }),
    placedByRuntime: placeChild,
    rootfsTmpfs: options.generated !== undefined,
    ...(imageLayer === undefined && { home: homeOf(rootfs, spec.process?.user.uid ?? 0) }),
    joinsOwnNetworkNs: joinsOwnNetworkNs(spec),
    ...(!options.noNewKeyring && { sessionKeyring: `_ses.${id}` }),
    ...(options.generated !== undefined && { rootfsSymlinks: options.generated.symlinks }),
    ...(imageLayer?.store.rootless && { rootfsOverlay: childOverlay(imageLayer.store, imageLayer.image, rt.root, id, imageLayer.overlayOptions) }),
    ...(options.stdio !== undefined && { stdio: options.stdio }),
    ...(idMaps !== undefined && { unprivilegedIdMaps: isUnprivilegedUser() }),
    setgroups,
    ...(rootless && { runtimeInUserNs: inUserNamespace() }),
  });
  debug(`plan: ${plan.ops.length} steps, clone flags 0x${plan.cloneFlags.toString(16)}`);

  store.claim(id);
  const record: ContainerRecord = {
    ociVersion: spec.ociVersion,
    id,
    phase: 'creating',
    bundle: bundleDir,
    rootfs,
    ...(spec.annotations !== undefined && { annotations: spec.annotations }),
    created: new Date().toISOString(),
    ...(cgroup !== undefined && { cgroup: cgroup.toJSON() }),
    ...(configProcess !== undefined && { process: configProcess }),
    ...(spec.linux?.seccomp !== undefined && { seccomp: spec.linux.seccomp }),
    hooks: { ...(spec.hooks?.poststart && { poststart: spec.hooks.poststart }), ...(spec.hooks?.poststop && { poststop: spec.hooks.poststop }) },
  };
  let init: ChildHandle | undefined;
  let cgroupFd: number | undefined;
  let trees: number[] = [];
  /** The init's pid and start time, written with the next state (create hooks, or created). */
  const recordInit = (pid: number): void => {
    record.pid = pid;
    record.pidStartTime = procStat(pid)?.startTime;
  };
  const createHooks = [spec.hooks?.prestart, spec.hooks?.createRuntime, spec.hooks?.createContainer].some((hooks) => (hooks?.length ?? 0) > 0);
  try {
    // Until state.json exists, the claimed directory reads as a container being created,
    // and delete removes it with what is inside (the gate, a generated rootfs, the notify socket).
    trees = await prepareDetachedMounts(plan);
    if (options.generated !== undefined) mkdirSync(rootfs, { mode: 0o755 });
    if (options.notifySocket !== undefined) makeNotifyDir(store.dir(id));
    native.mkfifo(gatePath, 0o622);
    cgroup?.create();
    // The "creating" state, written once: what delete undoes after a killed create, the cgroup
    // directories just made and the image layer about to be (removing a layer never made is a no-op).
    if (cgroup !== undefined) record.cgroup = cgroup.toJSON();
    if (imageLayer !== undefined) record.image = { id: imageLayer.image.id, store: imageLayer.store.root, layer: imageLayer.store.containerLayerDir(rt.root, id) };
    store.write(record);
    if (imageLayer !== undefined) {
      const layer = imageLayer.store.createContainerLayer(rt.root, id, imageLayer.image);
      imageLayer.anonymousVolumes.forEach((_, i) => mkdirSync(`${layer.dir}/volumes/${i}`, { recursive: true, mode: 0o755 }));
      // Rootless, the child mounts it, in the user namespace that owns its mount namespace.
      if (!imageLayer.store.rootless) native.mountOverlay(layer.merged, layer.lowers, layer.upper, layer.work, imageLayer.overlayOptions);
      debug(`rootfs: overlay of ${layer.lowers.length} layers on ${layer.merged}${imageLayer.store.rootless ? ', mounted by the init' : ''}`);
    }
    if (cgroup !== undefined) {
      await cgroup.apply(resources);
      record.resources = resources;
      debug(`cgroup ${cgroup.path} created`);
    }
    const v2Dir = bornInCgroup ? cgroup!.v2Directory() : undefined;
    cgroupFd = v2Dir !== undefined ? openSync(v2Dir, 'r') : undefined;
    init = await launchPlan(
      plan,
      {
        lastPoint: SyncPoint.Ready,
        onClone: (child) => {
          init = child;
          recordInit(child.pid);
          debug(`init ${child.pid} cloned${cgroup !== undefined && !placeChild ? ' into its cgroup' : ''}`);
        },
        onSyncPoint: async (point, child) => {
          if (point === SyncPoint.AfterClone) {
            await cgroup!.addProcess(child.pid);
            debug(`init ${child.pid} placed in its cgroup`);
          } else if (point === SyncPoint.IdMaps) {
            writeIdMaps(child.pid, spec.linux?.uidMappings, spec.linux?.gidMappings, idMaps);
          } else if (point === SyncPoint.CreateHooks) {
            // Hooks run for as long as they like, and may ask `husk state`: the init is on record first.
            if (createHooks) store.write(record);
            moveNetDevices(spec.linux?.netDevices, record.pid ?? child.pid);
            const state = toOciState(record, 'creating');
            await runHooks('prestart', spec.hooks?.prestart, state);
            await runHooks('createRuntime', spec.hooks?.createRuntime, state);
            // createContainer hooks: the init runs them next, with this state on their stdin.
            return Buffer.from(JSON.stringify(state));
          } else if (point === SyncPoint.Ready) {
            record.phase = 'created';
            if (cgroup !== undefined) record.cgroup = cgroup.toJSON(); // a systemd scope exists from the first process on
            store.write(record);
            if (options.pidFile !== undefined) writePidFile(options.pidFile, record.pid ?? child.pid);
            debug(`init ${record.pid} waits at the start gate`);
            return Buffer.from(JSON.stringify(toOciState(record, 'created')));
          }
        },
        // The init, cloned into a joined or new pid namespace as a sibling of the child.
        onPid: (pid) => recordInit(pid),
        onFd: (kind, fd) => {
          if (kind === FdKind.SeccompNotify) sendToSeccompListener(spec.linux?.seccomp, fd, record.pid ?? init!.pid, toOciState(record, 'creating'));
          else deliverConsole(options, fd);
        },
      },
      cgroupFd,
    );
  } catch (error) {
    debug(`create failed: ${(error as Error).message}; cleaning up`);
    init?.kill('SIGKILL');
    await init?.wait();
    await cgroup?.killAll(9).catch(() => {});
    await cgroup?.destroy().catch((e: Error) => warnTo(rt)(`cleanup: ${e.message}`));
    if (record.image !== undefined) await removeImageLayer(record.image).catch((e: Error) => warnTo(rt)(`cleanup: ${e.message}`));
    store.remove(id);
    throw error;
  } finally {
    if (cgroupFd !== undefined) closeSync(cgroupFd);
    for (const fd of trees) closeSync(fd); // the child has them (or failed)
  }
  return { id, pid: record.pid ?? init.pid, init };
}

/** The overlay the init mounts itself (rootless): the paths createContainerLayer makes. */
function childOverlay(images: ImageStore, image: { layers: string[] }, stateRoot: string, id: string, options: string[]): { lowers: string[]; upper: string; work: string; options: string[] } {
  // The kernel lets a user namespace mount overlayfs from 5.11 on (FS_USERNS_MOUNT).
  const [major = 0, minor = 0] = release().split('.').map((n) => parseInt(n, 10));
  if (major < 5 || (major === 5 && minor < 11)) {
    throw new ContainerError(`rootless, the image's overlay is mounted in the container's user namespace, which needs Linux 5.11 or newer (this is ${release()})`, 'EINVAL');
  }
  const dir = images.containerLayerDir(stateRoot, id);
  const overlay = { lowers: imageLowers(images, image), upper: `${dir}/upper`, work: `${dir}/work`, options };
  // Before Linux 6.8 the layers go in one "lowerdir=a:b" string, where these would split a path.
  const odd = [...overlay.lowers, overlay.upper, overlay.work].find((p) => /[:,]/.test(p));
  if (odd !== undefined) throw new ContainerError(`the image store path ${odd} has a ':' or ',', which overlayfs options cannot hold: use a --store without them`, 'EINVAL');
  return overlay;
}

/** The image's layer directories, top first. */
export function imageLowers(images: ImageStore, image: { layers: string[] }): string[] {
  return chainIds(image.layers).map((c) => images.layerDir(c)).reverse();
}

/**
 * The home directory of `uid` in the rootfs's /etc/passwd, or "/" (runc sets HOME
 * so when the config does not). A symlinked /etc or passwd is not followed: the
 * rootfs must not make the runtime read a file of the host.
 */
function homeOf(rootfs: string, uid: number): string {
  try {
    if (!lstatSync(`${rootfs}/etc`).isDirectory() || !lstatSync(`${rootfs}/etc/passwd`).isFile()) return '/';
    for (const line of readFileSync(`${rootfs}/etc/passwd`, 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields.length >= 7 && Number(fields[2]) === uid && fields[5] !== '') return fields[5]!;
    }
  } catch {
    // no passwd: the default
  }
  return '/';
}

function newCgroupManager(rt: RuntimeOptions, spec: Spec, id: string, layout: CgroupLayout): CgroupManager {
  return rt.systemdCgroup
    ? createSystemdCgroupManager(spec.linux?.cgroupsPath, id, layout)
    : createCgroupManager(resolveCgroupsPath(spec.linux?.cgroupsPath, id, rt.cgroupParent), layout);
}

const joinsUserNs = (spec: Spec): boolean => (spec.linux?.namespaces ?? []).some((n) => n.type === 'user' && n.path !== undefined);
const newNetworkNs = (spec: Spec): boolean => (spec.linux?.namespaces ?? []).some((n) => n.type === 'network' && n.path === undefined);

/**
 * Where the container's /sys/fs/cgroup comes from. In a user namespace without a network
 * namespace of its own, /sys is the host's, bound recursively (no sysfs can be mounted there),
 * and the host's cgroup2 mount comes along at /sys/fs/cgroup: a cgroup2 mounted over it is the
 * same superblock on its own root, which the kernel refuses (EBUSY). So the container's own
 * cgroup directory is bound instead (`hostSysfsCgroup`), runc's and crun's fallback. Without a
 * cgroup of its own (rootless, none delegated): husk's own cgroup with a cgroup namespace, else
 * the host's tree; on v1 husk's own cgroup of each hierarchy.
 */
function cgroupMountFor(cgroup: CgroupManager | undefined, layout: CgroupLayout, spec: Spec, hostSysfsCgroup: boolean): CgroupMountSource {
  if (cgroup !== undefined) {
    const source = cgroupMountSource(cgroup, layout);
    const dir = source.kind === 'v2' && hostSysfsCgroup ? cgroup.v2Directory() : undefined;
    return dir !== undefined ? { kind: 'bind', hostPath: dir } : source;
  }
  if (layout.mode === 'v2') {
    const mount = layout.unifiedMount ?? '/sys/fs/cgroup';
    const cgroupNs = (spec.linux?.namespaces ?? []).some((n) => n.type === 'cgroup');
    const own = cgroupOf(ownCgroups(), undefined);
    if (!cgroupNs || own === undefined) return { kind: 'bind', hostPath: mount };
    return hostSysfsCgroup ? { kind: 'bind', hostPath: join(mount, own) } : { kind: 'v2' };
  }
  const own = ownCgroups();
  const hierarchies: { name: string; hostPath: string }[] = [];
  const seen = new Set<string>();
  for (const [controller, mount] of Object.entries(layout.v1Mounts)) {
    const path = cgroupOf(own, controller);
    if (path === undefined || seen.has(mount)) continue;
    seen.add(mount);
    hierarchies.push({ name: basename(mount), hostPath: inMount(mount, path) });
  }
  if (layout.unifiedMount !== undefined) {
    const path = cgroupOf(own, undefined);
    if (path !== undefined) hierarchies.push({ name: basename(layout.unifiedMount), hostPath: inMount(layout.unifiedMount, path) });
  }
  return { kind: 'v1', hierarchies };

  /** A /proc/self/cgroup path under a mount whose root may not be the hierarchy's. */
  function inMount(mount: string, path: string): string {
    const root = layout.mountRoots[mount] ?? '/';
    return join(mount, root !== '/' && (path === root || path.startsWith(`${root}/`)) ? path.slice(root.length) : path);
  }
}

/** The `tasks` files of the container's v1 cgroups (every hierarchy but the cgroup2 tree). */
function v1TasksFiles(cgroup: CgroupManager): string[] {
  const v2 = cgroup.v2Directory();
  return cgroup
    .procsFiles()
    .map((file) => dirname(file))
    .filter((dir) => dir !== v2)
    .map((dir) => `${dir}/tasks`);
}

/** Where the container's /sys/fs/cgroup comes from: its own cgroup on each hierarchy. */
function cgroupMountSource(cgroup: CgroupManager, layout: CgroupLayout): CgroupMountSource {
  if (layout.mode === 'v2') return { kind: 'v2' };
  const mountpoints = [...Object.values(layout.v1Mounts), ...(layout.unifiedMount ? [layout.unifiedMount] : [])];
  const hierarchies: { name: string; hostPath: string }[] = [];
  for (const file of cgroup.procsFiles()) {
    const dir = dirname(file);
    const mountpoint = mountpoints.find((m) => dir === m || dir.startsWith(`${m}/`));
    if (mountpoint === undefined) continue;
    const name = basename(mountpoint);
    if (!hierarchies.some((h) => h.name === name)) hierarchies.push({ name, hostPath: dir });
  }
  return { kind: 'v1', hierarchies };
}

export interface RunOptions extends CreateOptions {
  /** Return once started (runc run -d). */
  detach?: boolean;
  /** Forward these signals received by this process to the container's init (default: the usual ones). */
  forwardSignals?: NodeJS.Signals[];
  /** Remove the container after it exits (default true for foreground runs, as runc). */
  remove?: boolean;
}

const forwardedByDefault: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/** create + start + wait (+ delete): returns the container's exit code, or 128 + signal. */
export async function runContainer(rt: RuntimeOptions, options: RunOptions): Promise<{ exit?: Exit; code: number; container: Container }> {
  // Listening from the start (as runc): a signal that comes while the container is made
  // (once --pid-file names its init, say) is not lost, nor does it kill us; it is passed on
  // once the init runs.
  const signals = options.detach ? [] : (options.forwardSignals ?? forwardedByDefault);
  const pending: NodeJS.Signals[] = [];
  let init: ChildHandle | undefined;
  const forward = (signal: NodeJS.Signals): void => {
    if (init === undefined) pending.push(signal);
    else init.kill(signal);
  };
  for (const signal of signals) process.on(signal, forward);
  let container: Container;
  let exit: Exit;
  let relayed: Promise<void> | undefined;
  try {
    container = await createContainer(rt, options);
    let relay: { relay(): Promise<void> } | undefined;
    try {
      relay = await releaseGate(rt, options.id, { ...(options.notifySocket !== undefined && { notifySocket: options.notifySocket }) });
    } catch (error) {
      await deleteContainer(rt, options.id, true);
      throw error;
    }
    // As runc run: detached, return once READY was relayed; in the foreground, relay meanwhile.
    if (options.detach) {
      await relay?.relay();
      return { code: 0, container };
    }
    relayed = relay?.relay().catch((error: Error) => warnTo(rt)(`warning: NOTIFY_SOCKET: ${error.message}`));
    init = container.init;
    for (const signal of pending.splice(0)) init.kill(signal);
    exit = await container.init.wait();
  } finally {
    for (const signal of signals) process.off(signal, forward);
  }
  await relayed;
  if (options.remove ?? true) await deleteContainer(rt, options.id, true);
  return { exit, code: exitStatusCode(exit), container };
}
