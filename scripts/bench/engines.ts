/**
 * (8) Engines: `podman run --rm IMAGE true`, `ctr run --rm IMAGE ID true` and `docker run --rm IMAGE true`,
 * each with runc and with husk as the runtime, alternated run by run. The engines are the tests' own
 * (tests/helpers/engines.ts: private roots, sockets and data dirs, containers beneath this process's
 * cgroup, stopped and removed at the end), on the tests' busybox image (tests/helpers/images.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { startContainerd, startDockerd, startPodman, podmanUlimits, runtimes, type Engine, type RuntimeName } from '../../tests/helpers/engines.js';
import { buildBusyboxImage } from '../../tests/helpers/images.js';
import { rotated, timed, type Timed } from './measure.js';

export interface EngineSample {
  /** "podman", "ctr", "docker". */
  engine: string;
  runtime: RuntimeName;
  wallMs: number;
}

interface Case {
  engine: string;
  runtime: RuntimeName;
  go: (i: number) => Promise<Timed>;
}

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/**
 * Measures each engine × runtime `runs` times after `warmup` runs; an engine that is not installed
 * or does not start is reported in `notes` and left out.
 */
export async function benchEngines(runs: number, warmup: number, notes: string[]): Promise<EngineSample[]> {
  const imageDir = mkdtempSync('/tmp/husk-bench-image-');
  const engines: Engine[] = [];
  const samples: EngineSample[] = [];
  try {
    const image = buildBusyboxImage(imageDir);
    const cases: Case[] = [];
    const env = (engine: Engine): NodeJS.ProcessEnv => ({ ...process.env, ...engine.env });
    const load = async (engine: Engine, args: string[]): Promise<void> => {
      const r = await engine.cli(args);
      if (r.exitCode !== 0) throw new Error(`${engine.command[0]} ${args.join(' ')}: ${String(r.stderr).trim()}`);
    };
    const start = async (name: string, binary: string, make: () => Promise<void>): Promise<void> => {
      if (!has(binary)) return void notes.push(`${name}: ${binary} is not installed (scripts/install-test-deps.sh): its rows are left out`);
      try {
        await make();
      } catch (error) {
        notes.push(`${name} could not be started: ${(error as Error).message.split('\n')[0]}`);
      }
    };
    await start('podman', 'podman', async () => {
      const podman = startPodman();
      engines.push(podman);
      await load(podman, ['load', '-q', '-i', image.dockerArchive]);
      for (const runtime of ['husk', 'runc'] as const) {
        const argv = [...podman.command, '--runtime', runtimes[runtime], 'run', '--rm', '--network', 'none', '--cgroup-parent', podman.cgroupParent, ...podmanUlimits, image.name, 'true'];
        cases.push({ engine: 'podman', runtime, go: () => timed(argv, { env: env(podman) }) });
      }
    });
    await start('containerd', 'ctr', async () => {
      const containerd = await startContainerd({ name: 'bench-containerd', cgroupTag: `husk-bench-${process.pid}-containerd` });
      engines.push(containerd);
      await load(containerd, ['images', 'import', image.ociArchive]);
      for (const runtime of ['husk', 'runc'] as const) {
        cases.push({
          engine: 'ctr',
          runtime,
          go: (i) => {
            const id = `bench-${runtime}-${i}`;
            return timed([...containerd.command, 'run', '--rm', ...containerd.runtimeFlags(runtime), '--cgroup', `${containerd.cgroupParent}/${id}`, image.qualifiedName, id, 'true']);
          },
        });
      }
    });
    await start('dockerd', 'dockerd', async () => {
      const docker = await startDockerd();
      engines.push(docker);
      await load(docker, ['load', '-q', '-i', image.dockerArchive]);
      for (const runtime of ['husk', 'runc'] as const) {
        const argv = [...docker.command, 'run', '--rm', '--runtime', runtime, '--network', 'none', image.name, 'true'];
        cases.push({ engine: 'docker', runtime, go: () => timed(argv, { env: env(docker) }) });
      }
    });
    for (let round = 0; round < warmup + runs; round++) {
      for (const c of rotated(cases, round)) {
        const t = await c.go(round);
        if (round >= warmup) samples.push({ engine: c.engine, runtime: c.runtime, wallMs: t.wallNs / 1e6 });
      }
    }
  } finally {
    for (const engine of engines.reverse()) await engine.stop();
    rmSync(imageDir, { recursive: true, force: true });
  }
  return samples;
}
