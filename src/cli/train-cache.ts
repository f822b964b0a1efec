/**
 * The build's trainer of the CLI's code caches (scripts/bundle-cli.mjs runs it once, with
 * stdout and stderr leading nowhere, after both bundles are written): for each bundle it
 * runs the bundle's verbs once in this process, then writes what V8 compiled of it as its
 * cache (V8 caches every function of the script compiled so far); a function the training
 * did not run compiles from source when a command needs it.
 *
 * The light bundle is trained on a real lifecycle too, as an engine drives one, since those
 * functions are what it runs for real (a cache trained only up to "does not exist" left
 * about 1.5 M instructions of lazy compiling in each `husk delete`): a stand-in init (a
 * child of this process), its record in the trainer's own state root, a gate file and a
 * cgroup of plain directories in the trainer's temp directory, then state, start, state,
 * kill KILL (through a pidfd, to that child only), state, delete. Nothing outside the temp
 * directory is touched: no /sys/fs/cgroup, no other process.
 *
 * The full bundle is trained on real containers when the build runs as root (trainRun): a
 * `run` and a `create` of a throwaway bundle and the embedded default's `run --rm`, beneath
 * the trainer's own cgroup, all deleted after.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostRootfsSpec } from '../runtime/host-rootfs.js';
import type { ContainerRecord } from '../runtime/state.js';
import { bundleNames, cacheNameOf, compileBundle, trainingFlag, writeTrustedCache } from './launcher.js';

type RunCli = (argv: string[]) => Promise<number>;

/**
 * The command lines a bundle's cache is trained on before the lifecycle, with `root` as the
 * state root (no container in it): every verb's --help, and each light verb up to "does not
 * exist". The light bundle gets only its verbs' work, not the help texts.
 */
export function trainingCommandLines(root: string, bundleName: string, verbs: string[]): string[][] {
  const r = ['--root', root];
  const absent = [
    [...r, 'list'],
    [...r, 'list', '--format', 'json'],
    [...r, 'state', 'train'],
    [...r, 'start', 'train'],
    [...r, 'kill', 'train', 'KILL'],
    [...r, 'kill', '--all', 'train', 'KILL'],
    [...r, 'delete', 'train'],
    [...r, 'delete', '--force', 'train'],
    [...r, 'pause', 'train'],
    [...r, 'resume', 'train'],
  ];
  if (bundleName === bundleNames.light) return absent;
  return [['--version'], ['--help'], ...verbs.map((verb) => [verb, '--help']), ...absent];
}

/** Field 22 of /proc/PID/stat (the start time husk records to tell its init from a reused pid). */
function startTime(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
}

/**
 * A created container's life, for real, on a stand-in: `root` is the trainer's state root,
 * `work` its temp directory. Throws if the stand-in cannot be started (no cache of this part
 * then, only of the rest); the stand-in is killed whatever happens.
 */
export async function trainLifecycle(runCli: RunCli, root: string, work: string): Promise<void> {
  const id = 'train-live';
  const cgroup = join(work, 'cgroup');
  const freezer = join(cgroup, 'freezer', id);
  const unified = join(cgroup, 'unified', id);
  const init: ChildProcess = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => init.once('exit', resolve));
  try {
    await new Promise((resolve, reject) => init.once('spawn', resolve).once('error', reject));
    const pid = init.pid!;
    mkdirSync(freezer, { recursive: true });
    mkdirSync(unified, { recursive: true });
    writeFileSync(join(freezer, 'freezer.state'), 'THAWED\n');
    writeFileSync(join(unified, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    const record: ContainerRecord = {
      ociVersion: '1.2.0',
      id,
      phase: 'created',
      bundle: work,
      rootfs: join(work, 'rootfs'),
      created: new Date().toISOString(),
      pid,
      pidStartTime: startTime(pid),
      // The cgroup manager's serialization (src/cgroups/manager.ts), over plain directories here.
      cgroup: {
        version: 1,
        path: `/${id}`,
        layout: { mode: 'hybrid', v1Mounts: { freezer: dirname(freezer) }, v2Controllers: [], mountRoots: {}, unifiedMount: dirname(unified) },
        hierarchies: [
          { version: 1, mount: dirname(freezer), controllers: ['freezer'], dir: freezer, createdDirs: [freezer] },
          { version: 2, mount: dirname(unified), controllers: [], dir: unified, createdDirs: [unified] },
        ],
        claimed: true,
      },
    };
    mkdirSync(join(root, id), { recursive: true, mode: 0o711 });
    writeFileSync(join(root, id, 'state.json'), JSON.stringify(record));
    writeFileSync(join(root, id, 'exec.fifo'), ''); // the gate: start opens, writes and removes it as it would the fifo
    const r = ['--root', root];
    await runCli([...r, 'state', id]);
    await runCli([...r, 'start', id]);
    await runCli([...r, 'state', id]);
    await runCli([...r, 'list', '--format', 'json']);
    await runCli([...r, 'kill', id, 'KILL']);
    await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error('the stand-in init did not die of `kill KILL` within 10 s')), 10_000).unref())]);
    // Stopped with an empty cgroup, the common delete: one rmdir per hierarchy.
    rmSync(join(freezer, 'freezer.state'));
    rmSync(join(unified, 'cgroup.events'));
    await runCli([...r, 'state', id]);
    await runCli([...r, 'delete', id]);
  } finally {
    init.kill('SIGKILL');
  }
}

/** The containers trainRun makes, in the order it makes them. */
export const trainingRunIds = ['train-run', 'train-create', 'train-default'] as const;

/**
 * The full bundle's create and run paths, for real: what an engine's `create` and a `husk run`
 * execute is the spec check, the planner, the cgroup manager, the launch and the wait, and a cache
 * trained only on --help left all of it to compile from source in every command (about 10 ms of
 * CPU per `husk run`). So, when the trainer is root: `run` of `true` from a throwaway bundle in
 * `work` (the host's /usr, /bin, /lib*, /etc bound read-only over an empty rootfs, as the
 * embedded default does), `create` and `delete --force` of that bundle, and the embedded default's
 * `run --rm`. Their cgroups are beneath the trainer's own (--cgroup-parent self), their state in
 * `root`; each is force-deleted whatever happens. Throws when not root or when a step fails
 * (the build then says the cache was trained without it).
 */
export async function trainRun(runCli: RunCli, root: string, work: string): Promise<void> {
  if (process.geteuid?.() !== 0) throw new Error('not root');
  const bundle = join(work, 'run-bundle');
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  const { spec, symlinks } = hostRootfsSpec(['true'], 'train', false);
  for (const [target, path] of symlinks) symlinkSync(target, join(rootfs, path));
  spec.root = { path: rootfs, readonly: true };
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  const r = ['--root', root, '--cgroup-parent', 'self'];
  const step = async (argv: string[]): Promise<void> => {
    const code = await runCli([...r, ...argv]);
    if (code !== 0) throw new Error(`husk ${argv.join(' ')} exited ${code}`);
  };
  const [run, created, embedded] = trainingRunIds;
  try {
    await step(['run', '--bundle', bundle, run]);
    await step(['create', '--bundle', bundle, created]);
    await step(['delete', '--force', created]);
    await step(['run', '--rm', embedded, '--', 'true']);
  } finally {
    for (const id of trainingRunIds) await runCli([...r, 'delete', '--force', id]).catch(() => undefined);
  }
}

/** Trains and writes both caches of the bundles in `dir`; `stateRoot` is in the trainer's temp directory. Reports on fd 3. */
export async function trainAndWrite(dir: string, stateRoot: string, require: NodeJS.Require): Promise<void> {
  const report = (text: string): void => {
    try {
      writeSync(3, text + '\n');
    } catch {
      // no one listening
    }
  };
  try {
    (globalThis as Record<symbol, unknown>)[trainingFlag] = true;
    const made: string[] = [];
    for (const name of [bundleNames.light, bundleNames.full]) {
      const bundle = compileBundle(dir, name, false, require);
      const { runCli, verbNames } = bundle.run() as { runCli: RunCli; verbNames: () => string[] };
      for (const argv of trainingCommandLines(stateRoot, name, verbNames())) await runCli(argv);
      let note = '';
      if (name === bundleNames.light) {
        try {
          await trainLifecycle(runCli, stateRoot, dirname(stateRoot));
        } catch (error) {
          note = `, without a lifecycle: ${error instanceof Error ? error.message : String(error)}`;
        }
      } else {
        try {
          await trainRun(runCli, stateRoot, dirname(stateRoot));
        } catch (error) {
          note = `, without a container run: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
      const data = bundle.script.createCachedData();
      const path = join(dir, cacheNameOf(name));
      writeTrustedCache(path, bundle.identity, data);
      made.push(`${path} (${(data.length / 1024).toFixed(0)} KiB${note})`);
    }
    report(`code caches: ${made.join(', ')}`);
    process.exit(0);
  } catch (error) {
    report(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
