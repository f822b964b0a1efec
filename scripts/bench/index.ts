/**
 * husk side by side with runc and crun (issue 7): `npm run bench [-- options]`.
 *
 *   --runs N          measured runs of each single-command benchmark (default 15)
 *   --rounds N        measured rounds of each 50-container benchmark (default 5)
 *   --warmup N        unmeasured runs/rounds first (default 2 / 1)
 *   --only LIST       sections to run, comma-separated: verbs,run,phases,batch,api,ps,rss,engines (default all)
 *   --json FILE       also write every sample as JSON
 *   --write FILE      also put the report into FILE (BENCHMARKS.md), between its bench:begin/end markers
 *
 * Needs root. Installs nothing: runc and crun are used when present
 * (apt-get install -y runc crun). The measured husk is `node dist/cli.js`
 * (`npm run build` first); the API benchmark imports dist/runtime/container.js.
 * Prints the markdown tables of BENCHMARKS.md.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchEngines } from './engines.js';
import { rotated, summarize, type Summary, timed, type Timed } from './measure.js';
import { issue15Targets, spliceReport, targetsTable } from './targets.js';
import { type Runtime, externalRuntime, huskCli, huskEnv, huskRuntime, installHint, repoRoot, verbs } from './runtimes.js';
import {
  type Bundles,
  benchCgroupBase,
  crunNamespace,
  forceDeleteAll,
  leftoverIds,
  makeBundles,
  makeCgroupBase,
  pidsInCgroupTree,
  removeCgroupTree,
  removeNamespaceFile,
} from './setup.js';

interface Options {
  runs: number;
  rounds: number;
  warmup: number;
  batchWarmup: number;
  only: Set<string>;
  json?: string;
  write?: string;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { runs: 15, rounds: 5, warmup: 2, batchWarmup: 1, only: new Set(['verbs', 'run', 'phases', 'batch', 'api', 'ps', 'rss', 'engines']) };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const number = (): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number, not ${JSON.stringify(value)}`);
      i++;
      return n;
    };
    if (flag === '--runs') options.runs = Math.max(1, number());
    else if (flag === '--rounds') options.rounds = Math.max(1, number());
    else if (flag === '--warmup') options.warmup = options.batchWarmup = number();
    else if (flag === '--only') {
      options.only = new Set((value ?? '').split(',').filter((s) => s !== ''));
      i++;
    } else if (flag === '--json') {
      options.json = value;
      i++;
    } else if (flag === '--write') {
      options.write = value;
      i++;
    } else throw new Error(`unknown option ${flag} (see the header of scripts/bench/index.ts)`);
  }
  return options;
}

/** One line of a table: a value per column, each a summary of samples. */
interface Row {
  label: string;
  unit: 'ms' | 'MB' | 'count';
  cells: Record<string, Summary | undefined>;
  note?: string;
}

const COUNT = 50;
const rows: { section: string; row: Row }[] = [];
const samples: Record<string, number[]> = {};
const notes: string[] = [];
/** Per engine, the husk commands one `run --rm` made (the engines section counts them). */
let engineCalls: Record<string, string[]> = {};

function record(key: string, value: number): void {
  (samples[key] ??= []).push(value);
}
function cell(key: string): Summary | undefined {
  const values = samples[key];
  return values === undefined ? undefined : summarize(values);
}
function addRow(section: string, label: string, unit: Row['unit'], keyOf: (column: string) => string, note?: string): void {
  const cells: Row['cells'] = {};
  for (const column of ['husk', 'runc', 'crun']) cells[column] = cell(keyOf(column));
  rows.push({ section, row: { label, unit, cells, ...(note !== undefined && { note }) } });
}

const ms = (t: Timed): number => t.wallNs / 1e6;
const cpuMs = (t: Timed): number => (t.userUs + t.sysUs) / 1e3;

class Bench {
  readonly stateBase = `/run/husk-bench-${process.pid}`;
  readonly cgroupBase = benchCgroupBase();
  readonly loadAtStart = loadAverage();
  runtimes: Runtime[] = [];
  husk!: Runtime;
  /** husk with NODE_EXTRA_CA_CERTS as this environment has it (when it has it), exec'd as engines call it (its launcher moves the variable aside). */
  huskCa: Runtime | undefined;
  bundles!: Bundles;
  mntns: string | undefined;
  worker: ChildProcessWithoutNullStreams | undefined;
  private cleaned = false;

  constructor(readonly options: Options) {}

  async setUp(): Promise<void> {
    mkdirSync(this.stateBase, { recursive: true, mode: 0o700 });
    const caCerts = process.env['NODE_EXTRA_CA_CERTS'];
    this.husk = huskRuntime(this.stateBase, huskEnv(undefined));
    if (caCerts !== undefined && caCerts !== '') this.huskCa = { ...this.husk, prefix: [huskCli, ...this.husk.prefix.slice(2)], env: huskEnv(caCerts) };
    const runc = externalRuntime('runc', this.stateBase);
    const crunProbe = externalRuntime('crun', this.stateBase);
    if (crunProbe !== undefined) this.mntns = crunNamespace(this.stateBase);
    const crun = externalRuntime('crun', this.stateBase, this.mntns);
    if (runc === undefined || crun === undefined) {
      notes.push(`${[runc ? '' : 'runc', crun ? '' : 'crun'].filter(Boolean).join(' and ')} not installed: their columns are empty (${installHint})`);
      process.stderr.write(`bench: ${notes[notes.length - 1]}\n`);
    }
    this.runtimes = [this.husk, ...(runc ? [runc] : []), ...(crun ? [crun] : [])];
    makeCgroupBase(this.cgroupBase);
    this.bundles = await makeBundles(COUNT, this.cgroupBase);
  }

  /** Runs argv for a runtime under exec-timed (crun inside its mount namespace). */
  run(rt: Runtime, argv: string[], extra: { count?: number; parallel?: number } = {}): Promise<Timed> {
    return timed(argv, { ...extra, ...(rt.mntns !== undefined && { mntns: rt.mntns }), ...(rt.env !== undefined && { env: rt.env }) });
  }

  /** Nothing of a runtime may be left between benchmarks: containers, or processes in the bench's cgroups. */
  async assertClean(where: string): Promise<void> {
    for (const rt of this.runtimes) {
      const left = leftoverIds(rt);
      if (left.length > 0) throw new Error(`${where}: ${rt.name} left containers ${left.join(', ')}`);
    }
    for (let i = 0; i < 200 && pidsInCgroupTree(this.cgroupBase).length > 0; i++) await sleep(10);
    const pids = pidsInCgroupTree(this.cgroupBase);
    if (pids.length > 0) throw new Error(`${where}: processes left in ${this.cgroupBase}: ${pids.join(', ')}`);
  }

  async cleanUp(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    const problems: string[] = [];
    this.worker?.kill('SIGKILL');
    for (const rt of this.runtimes) problems.push(...forceDeleteAll(rt));
    for (let i = 0; i < 100 && pidsInCgroupTree(this.cgroupBase).length > 0; i++) await sleep(20);
    problems.push(...removeCgroupTree(this.cgroupBase).map((d) => `cgroup left: ${d}`));
    if (this.mntns !== undefined) removeNamespaceFile(this.mntns);
    rmSync(this.stateBase, { recursive: true, force: true });
    try {
      await this.bundles?.shared.cleanup();
    } catch (error) {
      problems.push((error as Error).message);
    }
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(this.stateBase) || (this.bundles !== undefined && l.includes(this.bundles.shared.dir)));
    problems.push(...mounts.map((m) => `mount left: ${m}`));
    if (problems.length > 0) {
      process.stderr.write(`bench: cleanup problems:\n  ${problems.join('\n  ')}\n`);
      process.exitCode = 1;
    }
  }

  // (1) run of /bin/true through each CLI, with the floors (7) in the same rounds so they share the noise.
  async runSection(): Promise<void> {
    const { runs, warmup } = this.options;
    const unshareArgs = unshareFlags(this.bundles.spec);
    type Item = { key: string; go: () => Promise<Timed> };
    const items: Item[] = this.runtimes.map((rt) => ({ key: rt.name, go: () => this.run(rt, verbs.run(rt, this.bundles.configDir(0), 'hb0')) }));
    if (this.huskCa) {
      const ca = this.huskCa;
      items.push({ key: 'husk+ca', go: () => this.run(ca, verbs.run(ca, this.bundles.configDir(0), 'hb0')) });
    }
    items.push({ key: 'node-e-0', go: () => timed([process.execPath, '-e', '0'], { env: huskEnv(undefined) }) });
    if (this.huskCa) items.push({ key: 'node-e-0+ca', go: () => timed([process.execPath, '-e', '0'], { env: this.huskCa!.env! }) });
    items.push({ key: 'unshare', go: () => timed(['unshare', ...unshareArgs, '/bin/true']) });
    for (let round = 0; round < warmup + runs; round++) {
      for (const item of rotated(items, round)) {
        const t = await item.go();
        if (round < warmup) continue;
        record(`run.wall.${item.key}`, ms(t));
        record(`run.cpu.${item.key}`, cpuMs(t));
        record(`run.rss.${item.key}`, t.maxRssKb / 1024);
      }
    }
    await this.assertClean('run');
    addRow('run', '`run` /bin/true: wall', 'ms', (c) => `run.wall.${c}`);
    addRow('run', '`run` /bin/true: CPU (user+sys, children included)', 'ms', (c) => `run.cpu.${c}`);
    addRow('run', '`run` /bin/true: peak RSS (largest process)', 'MB', (c) => `run.rss.${c}`);
    if (this.huskCa) {
      addRow('run', '`run` wall, NODE_EXTRA_CA_CERTS set, dist/cli.js exec\'d as engines call it (husk only; runc/crun as above)', 'ms', (c) => (c === 'husk' ? 'run.wall.husk+ca' : `run.wall.${c}`));
    }
  }

  // (0) Each lifecycle verb against the Node floor (issue 15): one round = every runtime's
  // create (untimed), start, state, kill, delete of a sleeping container and a `run` of
  // /bin/true, and a `node -e 0`, in an order rotated round by round so all share the noise.
  async verbsSection(): Promise<void> {
    const { runs, warmup } = this.options;
    const sleeper = this.bundles.extra('verbs', ['sleep', '3600']);
    const pidFile = join(this.stateBase, 'verbs.pid');
    type Item = { key: string; go: (keep: boolean) => Promise<void> };
    const items: Item[] = this.runtimes.map((rt) => ({
      key: rt.name,
      go: async (keep) => {
        const put = (verb: string, t: Timed): void => {
          if (keep) record(`verbs.${verb}.${rt.name}`, ms(t));
        };
        rmSync(pidFile, { force: true });
        await this.run(rt, verbs.create(rt, sleeper, 'hbv', pidFile));
        const pid = Number(readFileSync(pidFile, 'utf8'));
        put('start', await this.run(rt, verbs.start(rt, 'hbv')));
        put('state', await this.run(rt, verbs.state(rt, 'hbv')));
        put('kill', await this.run(rt, verbs.kill(rt, 'hbv', 'KILL')));
        await waitDead(pid);
        put('delete', await this.run(rt, verbs.delete(rt, 'hbv')));
        put('run', await this.run(rt, verbs.run(rt, this.bundles.configDir(0), 'hb0')));
      },
    }));
    items.push({
      key: 'node-e-0',
      go: async (keep) => {
        const t = await timed([process.execPath, '-e', '0'], { env: huskEnv(undefined) });
        if (keep) record('verbs.floor.node-e-0', ms(t));
      },
    });
    for (let round = 0; round < warmup + runs; round++) {
      for (const item of rotated(items, round)) await item.go(round >= warmup);
    }
    await this.assertClean('verbs');
    verbsMeasured = true;
  }

  // (2) create, start, delete separately.
  async phasesSection(): Promise<void> {
    const { runs, warmup } = this.options;
    const pidFile = join(this.stateBase, 'phase.pid');
    for (let round = 0; round < warmup + runs; round++) {
      for (const rt of rotated(this.runtimes, round)) {
        rmSync(pidFile, { force: true });
        const create = await this.run(rt, verbs.create(rt, this.bundles.configDir(0), 'hb0', pidFile));
        const pid = Number(readFileSync(pidFile, 'utf8'));
        const start = await this.run(rt, verbs.start(rt, 'hb0'));
        await waitDead(pid); // /bin/true exits at once; delete wants it stopped
        const del = await this.run(rt, verbs.delete(rt, 'hb0'));
        if (round < warmup) continue;
        record(`phase.create.${rt.name}`, ms(create));
        record(`phase.start.${rt.name}`, ms(start));
        record(`phase.delete.${rt.name}`, ms(del));
        record(`phase.createRss.${rt.name}`, create.maxRssKb / 1024);
      }
    }
    await this.assertClean('phases');
    addRow('phases', '`create` wall', 'ms', (c) => `phase.create.${c}`);
    addRow('phases', '`start` wall', 'ms', (c) => `phase.start.${c}`);
    addRow('phases', '`delete` wall (container already stopped)', 'ms', (c) => `phase.delete.${c}`);
    addRow('phases', '`create` peak RSS', 'MB', (c) => `phase.createRss.${c}`);
  }

  // (3) 50 containers one after another, and 10 at a time.
  async batchSection(): Promise<void> {
    const { rounds, batchWarmup } = this.options;
    for (let round = 0; round < batchWarmup + rounds; round++) {
      for (const rt of rotated(this.runtimes, round)) {
        for (const parallel of [1, 10]) {
          const t = await this.run(rt, verbs.run(rt, this.bundles.configDir('%i'), 'hb%i'), { count: COUNT, parallel });
          if (round < batchWarmup) continue;
          record(`batch${parallel}.wall.${rt.name}`, ms(t));
          record(`batch${parallel}.cpu.${rt.name}`, cpuMs(t));
        }
      }
    }
    await this.assertClean('batch');
    addRow('batch', `${COUNT} × \`run\`, sequential: total wall`, 'ms', (c) => `batch1.wall.${c}`);
    addRow('batch', `${COUNT} × \`run\`, sequential: total CPU`, 'ms', (c) => `batch1.cpu.${c}`);
    addRow('batch', `${COUNT} × \`run\`, 10 at a time: total wall`, 'ms', (c) => `batch10.wall.${c}`);
    addRow('batch', `${COUNT} × \`run\`, 10 at a time: total CPU`, 'ms', (c) => `batch10.cpu.${c}`);
  }

  // (4) the TypeScript API in one long-lived process vs crun's CLI, and the unshare floor.
  async apiSection(): Promise<void> {
    const { rounds, batchWarmup } = this.options;
    const worker = spawn(process.execPath, [join(repoRoot, 'scripts', 'bench', 'api-worker.mjs')], {
      env: huskEnv(undefined),
      stdio: ['pipe', 'pipe', 'inherit'],
    }) as unknown as ChildProcessWithoutNullStreams;
    this.worker = worker;
    const answers = createInterface({ input: worker.stdout })[Symbol.asyncIterator]();
    const apiRoot = join(this.stateBase, 'husk-api');
    const apiBatch = async (): Promise<{ samples: Record<string, number>[]; maxRssKb: number }> => {
      worker.stdin.write(JSON.stringify({ root: apiRoot, bundle: this.bundles.configDir('%i'), id: 'api%i', count: COUNT }) + '\n');
      const next = await answers.next();
      if (next.done) throw new Error('api-worker exited');
      const answer = JSON.parse(next.value) as { samples: Record<string, number>[]; maxRssKb: number; error?: string };
      if (answer.error !== undefined) throw new Error(`api-worker: ${answer.error}`);
      return answer;
    };
    const crun = this.runtimes.find((r) => r.name === 'crun');
    const runc = this.runtimes.find((r) => r.name === 'runc');
    const unshareArgs = unshareFlags(this.bundles.spec);
    // Each item runs one batch; `keep` is false during warm-up rounds.
    const put = (keep: boolean, key: string, value: number): void => {
      if (keep) record(key, value);
    };
    const items: ((keep: boolean) => Promise<void>)[] = [
      async (keep) => {
        const answer = await apiBatch();
        for (const s of answer.samples) for (const [phase, value] of Object.entries(s)) put(keep, `api.${phase}.husk`, value);
        put(keep, 'api.rss.husk', answer.maxRssKb / 1024);
      },
      async (keep) => put(keep, 'api.unshare', ms(await timed(['unshare', ...unshareArgs, '/bin/true'], { count: COUNT })) / COUNT),
    ];
    for (const rt of [crun, runc]) {
      if (rt === undefined) continue;
      items.push(async (keep) =>
        put(keep, `api.total.${rt.name}`, ms(await this.run(rt, verbs.run(rt, this.bundles.configDir('%i'), 'hb%i'), { count: COUNT })) / COUNT),
      );
    }
    try {
      for (let round = 0; round < batchWarmup + rounds; round++) {
        for (const item of rotated(items, round)) await item(round >= batchWarmup);
      }
    } finally {
      worker.stdin.end();
      this.worker = undefined;
    }
    const apiLeft = existsSync(apiRoot) ? readdirSync(apiRoot) : [];
    if (apiLeft.length > 0) throw new Error(`api: husk API left containers ${apiLeft.join(', ')}`);
    await this.assertClean('api');
    addRow('api', `per container, create+start+wait+delete: API (husk) vs CLI \`run\` (runc, crun)`, 'ms', (c) => `api.total.${c}`);
    for (const phase of ['create', 'start', 'wait', 'delete']) addRow('api', `  API ${phase}`, 'ms', (c) => `api.${phase}.${c}`);
    addRow('api', 'API process peak RSS (after all rounds)', 'MB', (c) => `api.rss.${c}`);
  }

  // (5) ps on a container with 10 processes.
  async psSection(): Promise<void> {
    const { runs, warmup } = this.options;
    const huskHasPs = huskVerbExists('ps');
    if (!huskHasPs) notes.push('`husk ps` does not exist yet (`husk ps --help` fails): its cell is empty');
    const bundle = this.bundles.extra('ps10', ['spawn', '9', '3600']);
    const candidates = this.runtimes.filter((rt) => rt.name !== 'husk' || huskHasPs);
    const ok: Runtime[] = [];
    for (const rt of candidates) {
      await this.run(rt, verbs.runDetached(rt, bundle, 'hbps'));
      await waitFor(() => pidsInCgroupTree(`${this.cgroupBase}/ps10`).length >= 10, `${rt.name}: 10 processes in the ps container`);
      try {
        await this.run(rt, verbs.ps(rt, 'hbps'));
        ok.push(rt);
      } catch (error) {
        notes.push(`${rt.name} ps failed: ${(error as Error).message.split('\n')[0]}`);
      }
      await this.run(rt, verbs.delete(rt, 'hbps', true));
      await this.assertClean(`ps (${rt.name})`);
    }
    // Each runtime's container in turn (they share the cgroup path), the runs alternating inside.
    for (const rt of ok) {
      await this.run(rt, verbs.runDetached(rt, bundle, 'hbps'));
      await waitFor(() => pidsInCgroupTree(`${this.cgroupBase}/ps10`).length >= 10, `${rt.name}: 10 processes`);
      try {
        for (let i = 0; i < warmup + runs; i++) {
          const t = await this.run(rt, verbs.ps(rt, 'hbps'));
          if (i >= warmup) record(`ps.${rt.name}`, ms(t));
        }
      } finally {
        await this.run(rt, verbs.delete(rt, 'hbps', true));
      }
      await this.assertClean(`ps (${rt.name})`);
    }
    addRow('ps', '`ps` of a container with 10 processes: wall', 'ms', (c) => `ps.${c}`);
  }

  // (6) what stays resident per detached container: after `create`, and after `run -d` of a sleeper.
  async rssSection(): Promise<void> {
    const sleeper = this.bundles.extra('sleeper', ['sleep', '3600']);
    for (const [phase, verb] of [
      ['created', (rt: Runtime) => verbs.create(rt, sleeper, 'hbrss')],
      ['running', (rt: Runtime) => verbs.runDetached(rt, sleeper, 'hbrss')],
    ] as const) {
      for (const rt of this.runtimes) {
        await this.run(rt, verb(rt));
        await sleep(200); // let anything the runtime forked settle
        const inCgroup = pidsInCgroupTree(`${this.cgroupBase}/sleeper`);
        const runtimeProcs = processesMentioning(rt.root).filter((p) => !inCgroup.includes(p));
        const all = [...inCgroup, ...runtimeProcs];
        record(`rss.${phase}.procs.${rt.name}`, all.length);
        record(`rss.${phase}.rss.${rt.name}`, all.reduce((sum, p) => sum + memoryOf(p).rssKb, 0) / 1024);
        record(`rss.${phase}.pss.${rt.name}`, all.reduce((sum, p) => sum + memoryOf(p).pssKb, 0) / 1024);
        if (runtimeProcs.length > 0) notes.push(`${rt.name} keeps ${runtimeProcs.length} process(es) of its own running beside a ${phase} container`);
        await this.run(rt, verbs.delete(rt, 'hbrss', true));
        await this.assertClean(`rss (${rt.name})`);
      }
    }
    addRow('rss', 'detached container after `create` (waiting for start): processes', 'count', (c) => `rss.created.procs.${c}`);
    addRow('rss', '  their RSS', 'MB', (c) => `rss.created.rss.${c}`);
    addRow('rss', '  their PSS', 'MB', (c) => `rss.created.pss.${c}`);
    addRow('rss', 'detached container after `run -d` (sleep): processes', 'count', (c) => `rss.running.procs.${c}`);
    addRow('rss', '  their RSS', 'MB', (c) => `rss.running.rss.${c}`);
  }

  // Engines: their own `run --rm IMAGE true`, with runc and with husk as their runtime.
  async enginesSection(): Promise<void> {
    const { runs, warmup } = this.options;
    const results = await benchEngines(runs, warmup, notes);
    for (const s of results.samples) record(`engines.${s.engine}.${s.runtime}`, s.wallMs);
    engineCalls = results.calls;
    addRow('engines', '`podman run --rm IMAGE true`: wall', 'ms', (c) => `engines.podman.${c}`);
    addRow('engines', '`ctr run --rm IMAGE ID true`: wall', 'ms', (c) => `engines.ctr.${c}`);
    addRow('engines', '`docker run --rm IMAGE true`: wall', 'ms', (c) => `engines.docker.${c}`);
  }
}

/** unshare(1) flags for the spec's new namespaces (runc spec: pid, network, ipc, uts, mount). */
function unshareFlags(spec: Bundles['spec']): string[] {
  const flag: Record<string, string> = { pid: '--pid', network: '--net', ipc: '--ipc', uts: '--uts', mount: '--mount', cgroup: '--cgroup', user: '--user' };
  const flags = (spec.linux?.namespaces ?? []).filter((n) => n.path === undefined).map((n) => flag[n.type]!);
  return flags.includes('--pid') ? [...flags, '--fork'] : flags;
}

/** True when the built CLI knows the verb (`husk VERB --help` succeeds). */
function huskVerbExists(verb: string): boolean {
  return spawnSync(process.execPath, [huskCli, verb, '--help'], { env: huskEnv(undefined), stdio: 'ignore' }).status === 0;
}

async function waitDead(pid: number): Promise<void> {
  await waitFor(() => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return /^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
    } catch {
      return true;
    }
  }, `process ${pid} to exit`);
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Pids whose command line mentions `text` (a runtime's --root): its own processes left running. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

function memoryOf(pid: number): { rssKb: number; pssKb: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { rssKb: field('Rss'), pssKb: field('Pss') };
  } catch {
    return { rssKb: 0, pssKb: 0 };
  }
}

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;
}

function format(s: Summary | undefined, unit: Row['unit']): string {
  if (s === undefined || s.n === 0) return '–';
  const digits = unit === 'count' ? 0 : s.median >= 100 ? 0 : 1;
  const f = (v: number): string => v.toFixed(digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

function ratio(a: Summary | undefined, b: Summary | undefined): string {
  if (a === undefined || b === undefined || a.n === 0 || b.n === 0 || b.median === 0) return '–';
  return `${(a.median / b.median).toFixed(2)}×`;
}

let verbsMeasured = false;

/** Section (0): each verb's wall time beside the Node floor and runc/crun, and issue 15's CLI targets. */
function verbsReport(): string[] {
  const floor = cell('verbs.floor.node-e-0');
  const lines = [
    '### (0) Each CLI verb beside the Node floor (`node -e 0`, same rounds)',
    '',
    '| verb (wall) | unit | husk | runc | crun | `node -e 0` | husk/node | husk/runc |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const labels: [string, string][] = [
    ['start', '`start`'],
    ['state', '`state`'],
    ['kill', '`kill KILL` (running)'],
    ['delete', '`delete` (stopped)'],
    ['run', '`run` /bin/true'],
  ];
  for (const [verb, label] of labels) {
    const [husk, runc, crun] = ['husk', 'runc', 'crun'].map((c) => cell(`verbs.${verb}.${c}`));
    lines.push(`| ${label} | ms | ${format(husk, 'ms')} | ${format(runc, 'ms')} | ${format(crun, 'ms')} | ${format(floor, 'ms')} | ${ratio(husk, floor)} | ${ratio(husk, runc)} |`);
  }
  lines.push('', '| target (issue 15) | measured | limit | met |', '|---|---|---|---|');
  const target = (label: string, a: Summary | undefined, b: Summary | undefined, limit: number): void => {
    const value = a !== undefined && b !== undefined && b.median > 0 ? a.median / b.median : NaN;
    lines.push(`| ${label} | ${Number.isNaN(value) ? '–' : `${value.toFixed(2)}×`} | ${limit}× | ${Number.isNaN(value) ? 'not measured' : value <= limit ? 'yes' : '**no**'} |`);
  };
  for (const verb of ['start', 'state', 'kill', 'delete']) target(`\`husk ${verb}\` ≤ 1.25× \`node -e 0\``, cell(`verbs.${verb}.husk`), floor, 1.25);
  target('`husk run /bin/true` ≤ 1.9× runc', cell('verbs.run.husk'), cell('verbs.run.runc'), 1.9);
  lines.push('');
  return lines;
}

function report(bench: Bench, options: Options, started: Date): string {
  const lines: string[] = [];
  const versions = bench.runtimes.map((r) => `${r.name}: ${r.version}`);
  lines.push(`Run ${started.toISOString()} on ${cpus().length}× ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}`);
  lines.push(`Versions: ${versions.join('; ')}`);
  lines.push(`Load average (1 min) at start ${bench.loadAtStart}, at end ${loadAverage()}: other work on the machine adds noise.`);
  lines.push(`Runs: ${options.runs} measured after ${options.warmup} warm-up (single commands); ${options.rounds} rounds of ${COUNT} after ${options.batchWarmup} warm-up (batches); runtimes alternated run by run.`);
  lines.push('Cells: median (min–max). Ratios: of medians.');
  lines.push('');
  if (verbsMeasured) lines.push(...verbsReport());
  const sectionTitles: Record<string, string> = {
    run: '(1) `run` of /bin/true through each CLI',
    phases: '(2) `create`, `start`, `delete` separately',
    batch: `(3) ${COUNT} containers`,
    api: `(4) husk's TypeScript API in one long-lived Node process vs the CLIs' \`run\` (per container)`,
    ps: '(5) `ps`',
    rss: '(6) What stays resident per detached container',
    engines: 'Engines: podman, containerd (ctr) and dockerd with husk or runc as their runtime (busybox image, `--network none`)',
  };
  for (const section of Object.keys(sectionTitles)) {
    const sectionRows = rows.filter((r) => r.section === section).map((r) => r.row);
    if (sectionRows.length === 0) continue;
    lines.push(`### ${sectionTitles[section]}`, '');
    lines.push('| measure | unit | husk | runc | crun | husk/runc | husk/crun |', '|---|---|---|---|---|---|---|');
    for (const row of sectionRows) {
      const { husk, runc, crun } = row.cells;
      lines.push(`| ${row.label} | ${row.unit} | ${format(husk, row.unit)} | ${format(runc, row.unit)} | ${format(crun, row.unit)} | ${ratio(husk, runc)} | ${ratio(husk, crun)} |`);
    }
    lines.push('');
  }
  lines.push(...engineFloorReport());
  // (7) floors and the issue's targets.
  const floorRows: [string, string, Row['unit']][] = [
    ['`node -e 0` wall (NODE_EXTRA_CA_CERTS unset)', 'run.wall.node-e-0', 'ms'],
    ['`node -e 0` wall (NODE_EXTRA_CA_CERTS set)', 'run.wall.node-e-0+ca', 'ms'],
    ['`node -e 0` peak RSS', 'run.rss.node-e-0', 'MB'],
    [`\`unshare ${unshareFlags(bench.bundles.spec).join(' ')} /bin/true\` wall`, 'run.wall.unshare', 'ms'],
    [`same unshare, per container in a batch of ${COUNT} (API section)`, 'api.unshare', 'ms'],
  ];
  lines.push('### (7) Floors', '', '| floor | unit | median (min–max) |', '|---|---|---|');
  for (const [label, key, unit] of floorRows) if (cell(key) !== undefined) lines.push(`| ${label} | ${unit} | ${format(cell(key), unit)} |`);
  lines.push('');
  lines.push('### Targets of issue 15 (the per-verb ones are under (0))', '');
  lines.push(...targetsTable(issue15Targets((key) => cell(key)?.median ?? NaN)), '');
  lines.push('Notes:');
  lines.push(`- every container's cgroup is beneath the bench's own: linux.cgroupsPath = ${bench.cgroupBase}/c<i> (one absolute path, identical for all three runtimes).`);
  if (bench.mntns !== undefined) {
    lines.push('- crun 1.8.1 refuses this hybrid host (its cgroup2 tree holds hugetlb): crun runs in a private mount namespace whose /sys/fs/cgroup/unified is an empty tmpfs; the timer joins it with setns before timing, so crun pays nothing for it.');
  }
  for (const note of notes) lines.push(`- ${note}`);
  return lines.join('\n');
}

/**
 * What any Node CLI could reach under each engine: every husk command an engine makes starts Node,
 * which costs at least `node -e 0`, where runc's cheapest verb costs its own median. So with runc's
 * `run --rm` taking R and the engine making n calls, husk takes at least R + n × (node -e 0 − runc's
 * cheapest verb), whatever husk's own code does. Needs the verbs and engines sections of this run.
 */
function engineFloorReport(): string[] {
  const floor = cell('verbs.floor.node-e-0')?.median;
  const runcVerbs = ['start', 'state', 'kill', 'delete'].map((verb) => cell(`verbs.${verb}.runc`)?.median).filter((v): v is number => v !== undefined);
  const engines = Object.keys(engineCalls).filter((engine) => cell(`engines.${engine}.runc`) !== undefined);
  if (floor === undefined || runcVerbs.length === 0 || engines.length === 0) return [];
  const runcCall = Math.min(...runcVerbs);
  const lines = [
    '#### What a Node CLI can reach under each engine',
    '',
    `Each husk command an engine makes starts Node: at least \`node -e 0\` (${floor.toFixed(1)} ms in this run) where runc's cheapest verb takes ${runcCall.toFixed(1)} ms. ` +
      'The calls were counted in one untimed run per engine (husk behind a wrapper that logs its command lines).',
    '',
    "| engine | husk commands per `run --rm` | with runc | floor for any Node CLI: runc + calls × (`node -e 0` − runc's cheapest verb) | floor ÷ runc | husk measured ÷ runc |",
    '|---|---|---|---|---|---|',
  ];
  for (const engine of engines) {
    const made = engineCalls[engine]!;
    const runc = cell(`engines.${engine}.runc`)!.median;
    const husk = cell(`engines.${engine}.husk`)?.median;
    const bound = runc + made.length * (floor - runcCall);
    lines.push(`| ${engine} | ${made.length}: ${made.map((c) => `\`${c}\``).join(', ')} | ${runc.toFixed(0)} ms | ${bound.toFixed(0)} ms | ${(bound / runc).toFixed(2)}× | ${husk === undefined ? '–' : `${(husk / runc).toFixed(2)}×`} |`);
  }
  lines.push('');
  return lines;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the bench creates containers: run it as root');
  const started = new Date();
  const bench = new Bench(options);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`bench: ${signal}: cleaning up\n`);
    void bench.cleanUp().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15)));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  try {
    await bench.setUp();
    const sections: [string, () => Promise<void>][] = [
      ['verbs', () => bench.verbsSection()],
      ['run', () => bench.runSection()],
      ['phases', () => bench.phasesSection()],
      ['batch', () => bench.batchSection()],
      ['api', () => bench.apiSection()],
      ['ps', () => bench.psSection()],
      ['rss', () => bench.rssSection()],
      ['engines', () => bench.enginesSection()],
    ];
    for (const [name, section] of sections) {
      if (!options.only.has(name)) continue;
      process.stderr.write(`bench: ${name}...\n`);
      await section();
    }
    const text = report(bench, options, started);
    process.stdout.write(text + '\n');
    if (options.json !== undefined) writeFileSync(options.json, JSON.stringify({ started, samples, notes }, null, 1) + '\n');
    if (options.write !== undefined) writeFileSync(options.write, spliceReport(readFileSync(options.write, 'utf8'), text, options.write));
  } finally {
    if (!interrupted) await bench.cleanUp();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
