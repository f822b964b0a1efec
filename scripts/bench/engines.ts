/**
 * (8) Engines: `podman run --rm IMAGE true`, `ctr run --rm IMAGE ID true` and `docker run --rm IMAGE true`,
 * each with runc and with husk as the runtime, alternated run by run. The engines are the tests' own
 * (tests/helpers/engines.ts: private roots, sockets and data dirs, containers beneath this process's
 * cgroup, stopped and removed at the end), on the tests' busybox image (tests/helpers/images.ts).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startContainerd, startDockerd, startPodman, podmanUlimits, runtimes, type Engine, type RuntimeName } from '../../tests/helpers/engines.js';
import { verbIndex } from '../../src/cli/command-line.js';
import { buildBusyboxImage } from '../../tests/helpers/images.js';
import { rotated, timed, type Timed } from './measure.js';

export interface EngineSample {
  /** "podman", "ctr", "docker". */
  engine: string;
  runtime: RuntimeName;
  wallMs: number;
}

export interface EngineResults {
  samples: EngineSample[];
  /** Per engine: the husk commands one `run --rm` made (verb and its flags, ids left out), counted by a wrapper in an untimed run. */
  calls: Record<string, string[]>;
}

interface Case {
  engine: string;
  runtime: RuntimeName;
  go: (i: number) => Promise<Timed>;
}

/**
 * An sh wrapper named as the runtime: it logs each command line, then execs husk. Only the untimed
 * counting run goes through it (sh costs a millisecond the timed runs must not pay).
 */
function countingWrapper(dir: string): { path: string; calls(): string[] } {
  const path = join(dir, 'husk-counted');
  const log = join(dir, 'husk-calls.log');
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${runtimes.husk}' "$@"\n`);
  chmodSync(path, 0o755);
  return {
    path,
    calls: () => {
      const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
      rmSync(log, { force: true });
      // "--root R --log L --log-format json delete --force ID" -> "delete --force" (the CLI's own verb finder)
      return lines.map((line) => {
        const words = line.split(' ');
        const at = verbIndex(words);
        if (at < 0) return line;
        const flags = words.slice(at + 1).filter((w) => w.startsWith('-') && !w.includes('/'));
        return [words[at], ...flags.filter((f) => ['--force', '--all', '--detach', '-d'].includes(f))].join(' ');
      });
    },
  };
}

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/**
 * Measures each engine × runtime `runs` times after `warmup` runs; an engine that is not installed
 * or does not start is reported in `notes` and left out.
 */
export async function benchEngines(runs: number, warmup: number, notes: string[]): Promise<EngineResults> {
  const imageDir = mkdtempSync('/tmp/husk-bench-image-');
  const engines: Engine[] = [];
  const samples: EngineSample[] = [];
  const calls: Record<string, string[]> = {};
  try {
    const image = buildBusyboxImage(imageDir);
    const counter = countingWrapper(imageDir);
    const cases: Case[] = [];
    /** One untimed `run --rm` through the counting wrapper: the husk commands the engine makes. */
    const count = async (engine: string, argv: string[], env?: NodeJS.ProcessEnv): Promise<void> => {
      const t = await timed(argv, env === undefined ? {} : { env });
      const made = counter.calls();
      if (t.failures > 0) notes.push(`${engine}: the counting run (husk behind an sh wrapper) failed: its calls are not counted`);
      else calls[engine] = made;
    };
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
      const argv = (runtime: string): string[] => [...podman.command, '--runtime', runtime, 'run', '--rm', '--network', 'none', '--cgroup-parent', podman.cgroupParent, ...podmanUlimits, image.name, 'true'];
      await count('podman', argv(counter.path), env(podman));
      for (const runtime of ['husk', 'runc'] as const) cases.push({ engine: 'podman', runtime, go: () => timed(argv(runtimes[runtime]), { env: env(podman) }) });
    });
    await start('containerd', 'ctr', async () => {
      const containerd = await startContainerd({ name: 'bench-containerd', cgroupTag: `husk-bench-${process.pid}-containerd` });
      engines.push(containerd);
      await load(containerd, ['images', 'import', image.ociArchive]);
      const counted = 'bench-counted';
      await count('ctr', [...containerd.command, 'run', '--rm', '--runc-binary', counter.path, '--runc-root', join(containerd.dir, 'runtime-root', 'husk'), '--cgroup', `${containerd.cgroupParent}/${counted}`, image.qualifiedName, counted, 'true']);
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
      const docker = await startDockerd({ 'husk-counted': counter.path });
      engines.push(docker);
      await load(docker, ['load', '-q', '-i', image.dockerArchive]);
      const argv = (runtime: string): string[] => [...docker.command, 'run', '--rm', '--runtime', runtime, '--network', 'none', image.name, 'true'];
      await count('docker', argv('husk-counted'), env(docker));
      for (const runtime of ['husk', 'runc'] as const) cases.push({ engine: 'docker', runtime, go: () => timed(argv(runtime), { env: env(docker) }) });
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
  return { samples, calls };
}
