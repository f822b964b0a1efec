/**
 * The Kubernetes path: containerd's CRI plugin driven over its gRPC socket as kubelet drives
 * it, with husk as a RuntimeClass handler (runtime_type io.containerd.runc.v2, BinaryName)
 * and runc as the reference handler in the same containerd, the same pod, the same checks.
 *
 * containerd runs with its own config, root, state and socket, inside a network and mount
 * namespace of its own (its pods' bridge, netns pins and overlay mounts never reach the host);
 * pods go beneath this test's own cgroup (a relative cgroup_parent, as runc reads it; husk
 * with HUSK_CGROUP_PARENT=self). The pause and busybox images are built here and imported.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, buildImage } from '../helpers/images.js';
import { cgroupOf, detectCgroups, ownCgroups } from '../../src/cgroups/detect.js';
import { cliPath, repoRoot } from '../helpers/husk.js';

const handlers = ['runc', 'husk'] as const;
type Handler = (typeof handlers)[number];

let PAUSE_IMAGE = '';
let BUSYBOX_IMAGE = '';
const MiB = 1024 * 1024;

let work: string;
let socket: string;
let containerd: ChildProcess | undefined;
let runtime: any;
const cgroupParentBase = `husk-cri-${process.pid}`;
const pods: string[] = [];

function call<T = any>(method: string, request: object, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    runtime[method](request, { deadline: Date.now() + timeoutMs }, (error: Error | null, response: T) => (error ? reject(error) : resolve(response)));
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function containerdConfig(): string {
  const runtimeStanza = (name: Handler, binary: string) => `
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${name}]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${name}.options]
        BinaryName = "${binary}"
        Root = "${join(work, `${name}-state`)}"`;
  return `version = 2
root = "${join(work, 'root')}"
state = "${join(work, 'state')}"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${join(work, 'net.d')}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
${runtimeStanza('runc', '/usr/sbin/runc')}
${runtimeStanza('husk', cliPath)}
`;
}

function ctr(...args: string[]): string {
  return execFileSync('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** Processes still running whose command line names our work directory (shims, containers). */
function leftovers(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(work)) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

/** Our pods' parent directory in every cgroup hierarchy of this host (beneath this test's own cgroup). */
function podParentDirs(): string[] {
  const layout = detectCgroups();
  const own = ownCgroups();
  const mounts = new Map<string, string | undefined>();
  for (const [controller, mount] of Object.entries(layout.v1Mounts)) mounts.set(mount, controller);
  if (layout.unifiedMount !== undefined) mounts.set(layout.unifiedMount, undefined);
  return [...mounts].map(([mount, controller]) => join(mount, cgroupOf(own, controller) ?? '/', cgroupParentBase));
}

/** A v1 cgroup file of a process (this hybrid host drives memory and cpu through v1). */
function cgroupFile(pid: number, controller: string, file: string): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]!.split(',').includes(controller))!;
  const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
  const mount = controller === 'cpu' ? '/sys/fs/cgroup/cpu' : `/sys/fs/cgroup/${controller}`;
  return readFileSync(join(mount, path, file), 'utf8').trim();
}

const ns = (pid: number, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);

async function containerPid(id: string): Promise<number> {
  const status = await call('ContainerStatus', { container_id: id, verbose: true });
  return JSON.parse(status.info.info).pid as number;
}

async function sandboxPid(id: string): Promise<number> {
  const status = await call('PodSandboxStatus', { pod_sandbox_id: id, verbose: true });
  return JSON.parse(status.info.info).pid as number;
}

interface PodReport {
  handler: Handler;
  sharedNet: boolean;
  sharedIpc: boolean;
  sharedUts: boolean;
  ownPidNamespaces: boolean;
  pid1: string[];
  hostname: string;
  exec: { code: number; stdout: string; stderr: string }[];
  memoryLimit: string;
  cpuQuota: string;
  updatedMemoryLimit: string;
  listed: string[];
  stoppedExitCode: number;
  stoppedState: string;
  shareProcessNamespacePid1: string;
}

async function exercisePod(handler: Handler): Promise<PodReport> {
  const uid = `${handler}-${process.pid}`;
  const sandboxConfig = {
    metadata: { name: `pod-${handler}`, uid, namespace: 'husk-test', attempt: 0 },
    hostname: `pod-${handler}`,
    log_directory: join(work, 'logs', handler),
    linux: {
      cgroup_parent: `${cgroupParentBase}/pod-${uid}`,
      security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } },
    },
  };
  mkdirSync(sandboxConfig.log_directory, { recursive: true });
  const { pod_sandbox_id: pod } = await call('RunPodSandbox', { config: sandboxConfig, runtime_handler: handler });
  pods.push(pod);
  const container = async (name: string, command: string[], resources: object = {}) => {
    const { container_id } = await call('CreateContainer', {
      pod_sandbox_id: pod,
      sandbox_config: sandboxConfig,
      config: {
        metadata: { name, attempt: 0 },
        image: { image: BUSYBOX_IMAGE },
        command,
        log_path: `${name}.log`,
        // As kubelet sends it for a pod without shareProcessNamespace: each container its own pid namespace.
        linux: { resources, security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
      },
    });
    await call('StartContainer', { container_id });
    return container_id as string;
  };
  const a = await container('a', ['sleep', '1000'], { memory_limit_in_bytes: 64 * MiB, cpu_quota: 20_000, cpu_period: 100_000 });
  const b = await container('b', ['sleep', '1000']);
  const pausePid = await sandboxPid(pod);
  const aPid = await containerPid(a);
  const bPid = await containerPid(b);

  const exec = async (id: string, cmd: string[]) => {
    const r = await call('ExecSync', { container_id: id, cmd, timeout: 60 });
    return { code: r.exit_code as number, stdout: Buffer.from(r.stdout).toString(), stderr: Buffer.from(r.stderr).toString() };
  };
  const report: PodReport = {
    handler,
    sharedNet: ns(aPid, 'net') === ns(pausePid, 'net') && ns(bPid, 'net') === ns(pausePid, 'net') && ns(pausePid, 'net') !== ns(process.pid, 'net'),
    sharedIpc: ns(aPid, 'ipc') === ns(pausePid, 'ipc') && ns(bPid, 'ipc') === ns(pausePid, 'ipc') && ns(pausePid, 'ipc') !== ns(process.pid, 'ipc'),
    sharedUts: ns(aPid, 'uts') === ns(pausePid, 'uts') && ns(bPid, 'uts') === ns(pausePid, 'uts'),
    ownPidNamespaces: new Set([ns(aPid, 'pid'), ns(bPid, 'pid'), ns(pausePid, 'pid'), ns(process.pid, 'pid')]).size === 4,
    pid1: [(await exec(a, ['cat', '/proc/1/cmdline'])).stdout.replace(/\0/g, ' ').trim(), (await exec(b, ['cat', '/proc/1/cmdline'])).stdout.replace(/\0/g, ' ').trim()],
    hostname: (await exec(b, ['hostname'])).stdout.trim(),
    exec: [await exec(a, ['sh', '-c', 'echo out; echo err >&2; exit 3']), await exec(b, ['true']), await exec(b, ['sh', '-c', 'kill -9 $$'])],
    memoryLimit: cgroupFile(aPid, 'memory', 'memory.limit_in_bytes'),
    cpuQuota: cgroupFile(aPid, 'cpu', 'cpu.cfs_quota_us'),
    updatedMemoryLimit: '',
    listed: [],
    stoppedExitCode: -1,
    stoppedState: '',
    shareProcessNamespacePid1: '',
  };
  await call('UpdateContainerResources', { container_id: a, linux: { memory_limit_in_bytes: 128 * MiB, cpu_quota: 20_000, cpu_period: 100_000 } });
  report.updatedMemoryLimit = cgroupFile(aPid, 'memory', 'memory.limit_in_bytes');
  const listed = await call('ListContainers', { filter: { pod_sandbox_id: pod } });
  report.listed = listed.containers.map((c: any) => `${c.metadata.name}:${c.state}`).sort();
  // sleep is PID 1 of its pid namespace and ignores SIGTERM: killed after the grace period.
  await call('StopContainer', { container_id: a, timeout: 2 });
  const stopped = (await call('ContainerStatus', { container_id: a })).status;
  report.stoppedExitCode = stopped.exit_code;
  report.stoppedState = stopped.state;
  for (const id of [a, b]) {
    await call('StopContainer', { container_id: id, timeout: 0 });
    await call('RemoveContainer', { container_id: id });
  }
  await call('StopPodSandbox', { pod_sandbox_id: pod });
  await call('RemovePodSandbox', { pod_sandbox_id: pod });
  pods.splice(pods.indexOf(pod), 1);

  // shareProcessNamespace: a pod whose containers share the sandbox's pid namespace.
  const sharedConfig = {
    ...sandboxConfig,
    metadata: { ...sandboxConfig.metadata, name: `shared-${handler}`, uid: `${uid}-shared` },
    linux: { ...sandboxConfig.linux, cgroup_parent: `${cgroupParentBase}/pod-${uid}-shared`, security_context: { namespace_options: { network: 'POD', pid: 'POD', ipc: 'POD' } } },
  };
  const { pod_sandbox_id: shared } = await call('RunPodSandbox', { config: sharedConfig, runtime_handler: handler });
  pods.push(shared);
  const { container_id: c } = await call('CreateContainer', {
    pod_sandbox_id: shared,
    sandbox_config: sharedConfig,
    config: { metadata: { name: 'c', attempt: 0 }, image: { image: BUSYBOX_IMAGE }, command: ['sleep', '1000'], log_path: 'c.log', linux: { security_context: { namespace_options: { network: 'POD', pid: 'POD', ipc: 'POD' } } } },
  });
  await call('StartContainer', { container_id: c });
  report.shareProcessNamespacePid1 = (await exec(c, ['cat', '/proc/1/cmdline'])).stdout.replace(/\0/g, ' ').trim();
  await call('StopPodSandbox', { pod_sandbox_id: shared });
  await call('RemovePodSandbox', { pod_sandbox_id: shared });
  pods.splice(pods.indexOf(shared), 1);
  return report;
}

describe('containerd CRI with husk as a RuntimeClass handler, runc as the reference', () => {
  beforeAll(async () => {
    work = mkdtempSync('/tmp/husk-cri-');
    socket = join(work, 'containerd.sock');
    mkdirSync(join(work, 'net.d'), { recursive: true });
    // A bridge inside containerd's own network namespace: pods get an address, nothing reaches the host's network.
    writeFileSync(
      join(work, 'net.d', '10-husk-test.conflist'),
      JSON.stringify({
        cniVersion: '0.4.0',
        name: 'husk-cri-test',
        plugins: [{ type: 'bridge', bridge: 'cni-husk0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: '169.254.77.0/24' }]], dataDir: join(work, 'ipam') } }],
      }),
    );
    const pause = buildImage(join(work, 'pause-image'), 'husk-pause:test', (rootfs) => execFileSync('cc', ['-static', '-Os', '-o', join(rootfs, 'pause'), join(repoRoot, 'tests', 'k8s', 'pause.c')]), { Entrypoint: ['/pause'] });
    const busybox = buildBusyboxImage(join(work, 'busybox-image'));
    PAUSE_IMAGE = pause.qualifiedName;
    BUSYBOX_IMAGE = busybox.qualifiedName;
    writeFileSync(join(work, 'config.toml'), containerdConfig());
    const log = openSync(join(work, 'containerd.log'), 'w');
    containerd = spawn('unshare', ['--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', `ip link set lo up && exec containerd --config ${join(work, 'config.toml')}`], {
      stdio: ['ignore', log, log],
      env: { ...process.env, HUSK_CGROUP_PARENT: 'self' },
    });
    closeSync(log);
    const definition = protoLoader.loadSync(join(repoRoot, 'tests', 'k8s', 'cri.proto'), { keepCase: true, longs: Number, enums: String, defaults: true });
    const api = grpc.loadPackageDefinition(definition) as any;
    runtime = new api.runtime.v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await call('Version', { version: 'v1' }, 2_000);
        break;
      } catch (error) {
        if (Date.now() > deadline || containerd.exitCode !== null) throw new Error(`containerd did not come up: ${(error as Error).message}\n${readFileSync(join(work, 'containerd.log'), 'utf8').slice(-2000)}`);
        await sleep(200);
      }
    }
    ctr('images', 'import', pause.ociArchive);
    ctr('images', 'import', busybox.ociArchive);
  }, 180_000);

  afterAll(async () => {
    // Bounded at every step: a runtime that hangs a call must not leave the pods running.
    for (const pod of [...pods]) {
      await call('StopPodSandbox', { pod_sandbox_id: pod }, 20_000).catch(() => {});
      await call('RemovePodSandbox', { pod_sandbox_id: pod }, 20_000).catch(() => {});
    }
    runtime?.close();
    if (containerd !== undefined && containerd.exitCode === null) {
      const exited = new Promise((resolve) => containerd!.once('exit', resolve));
      containerd.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (containerd.exitCode === null) containerd.kill('SIGKILL');
    }
    // Shims (they name our socket), then every process left in the pods' cgroups.
    for (const pid of leftovers()) spawnSync('kill', ['-9', String(pid)]);
    const dirs = podParentDirs();
    for (let round = 0; round < 50; round++) {
      const procs = dirs.filter(existsSync).flatMap((d) => execFileSync('sh', ['-c', `cat $(find ${d} -name cgroup.procs) 2>/dev/null || true`], { encoding: 'utf8' }).split('\n').filter(Boolean));
      if (procs.length === 0) break;
      for (const pid of procs) spawnSync('kill', ['-9', pid]);
      await sleep(100);
    }
    for (const dir of dirs) if (existsSync(dir)) spawnSync('find', [dir, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';']);
    if (work !== undefined && process.env['HUSK_KEEP_CRI'] !== '1') rmSync(work, { recursive: true, force: true });
  }, 180_000);

  it('runs, execs into and tears down a pod of two containers with husk exactly as with runc; nothing is left', async () => {
    const reports: Record<string, PodReport> = {};
    for (const handler of handlers) reports[handler] = await exercisePod(handler);
    const expected = (handler: Handler): PodReport => ({
      handler,
      sharedNet: true,
      sharedIpc: true,
      sharedUts: true,
      ownPidNamespaces: true,
      pid1: ['sleep 1000', 'sleep 1000'],
      hostname: `pod-${handler}`,
      exec: [
        { code: 3, stdout: 'out\n', stderr: 'err\n' },
        { code: 0, stdout: '', stderr: '' },
        { code: 137, stdout: '', stderr: '' },
      ],
      memoryLimit: String(64 * MiB),
      cpuQuota: '20000',
      updatedMemoryLimit: String(128 * MiB),
      listed: ['a:CONTAINER_RUNNING', 'b:CONTAINER_RUNNING'],
      stoppedExitCode: 137,
      stoppedState: 'CONTAINER_EXITED',
      shareProcessNamespacePid1: '/pause',
    });
    expect(reports['runc']).toEqual(expected('runc'));
    expect(reports['husk']).toEqual(expected('husk'));
    // Nothing left: no shim or container process, no husk state, no pod cgroup.
    await sleep(500);
    expect(leftovers().filter((pid) => !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('containerd\0'))).toEqual([]);
    // The shim gives each runtime --root ROOT/<containerd namespace>: no container state may be left there.
    for (const handler of handlers) {
      const state = join(work, `${handler}-state`);
      const left = existsSync(state) ? execFileSync('find', [state, '-mindepth', '2'], { encoding: 'utf8' }).trim() : '';
      expect(left, `${handler} state left`).toBe('');
    }
    // (pod-level directories are kubelet's to make and remove; runc leaves them too)
    for (const dir of podParentDirs()) {
      const left = existsSync(dir) ? execFileSync('find', [dir, '-mindepth', '2', '-type', 'd'], { encoding: 'utf8' }).trim() : '';
      expect(left, `container cgroups left under ${dir}`).toBe('');
    }
  }, 300_000);
});
