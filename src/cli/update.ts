import { readFileSync } from 'node:fs';
import { CgroupError, type LinuxResources } from '../cgroups/index.js';
import { updateContainer } from '../runtime/resources.js';
import { type Command, type OptionValue, UsageError } from './command.js';
import { runtimeOptions } from './runtime-options.js';

/** runc update's flags (Intel RDT and the obsolete kernel-memory ones aside), each with where it lands. */
const flags = {
  memory: 'memory.limit',
  'memory-reservation': 'memory.reservation',
  'memory-swap': 'memory.swap',
  'cpu-share': 'cpu.shares',
  'cpu-shares': 'cpu.shares',
  'cpu-quota': 'cpu.quota',
  'cpu-period': 'cpu.period',
  'cpu-burst': 'cpu.burst',
  'cpu-rt-period': 'cpu.realtimePeriod',
  'cpu-rt-runtime': 'cpu.realtimeRuntime',
  'cpu-idle': 'cpu.idle',
  'cpuset-cpus': 'cpu.cpus',
  'cpuset-mems': 'cpu.mems',
  'pids-limit': 'pids.limit',
  'blkio-weight': 'blockIO.weight',
} as const;
type Flag = keyof typeof flags;

const units: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker/go-units RAMInBytes: "512m", "1g", "1.5GiB", "100" (bytes); "-1" = unlimited. */
export function parseBytes(text: string, flag: string): number {
  if (text.trim() === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(text.trim());
  if (m === null) throw new UsageError(`--${flag}: "${text}" is not a size (e.g. 512m, 1g, or -1 for unlimited)`);
  const value = Math.round(Number(m[1]) * units[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(value)) throw new UsageError(`--${flag}: "${text}" is too large`);
  return value;
}

function parseInteger(text: string, flag: string): number {
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) throw new UsageError(`--${flag}: "${text}" is not an integer`);
  return Number(text);
}

/** The flags given -> a LinuxResources patch (values are checked later, with the rest). */
export function resourcesFromFlags(opts: Record<string, OptionValue | undefined>): LinuxResources {
  const patch: Record<string, Record<string, number | string>> = {};
  for (const [flag, target] of Object.entries(flags) as [Flag, string][]) {
    const raw = opts[flag];
    if (raw === undefined) continue;
    const text = String(raw);
    const [section, field] = target.split('.') as [string, string];
    const value = section === 'memory' ? parseBytes(text, flag) : field === 'cpus' || field === 'mems' ? text : parseInteger(text, flag);
    (patch[section] ??= {})[field] = value;
  }
  return patch as LinuxResources;
}

/** "linux.resources.pids.limit: ..." -> "--pids-limit: ..." when the value came from a flag. */
function flagError(error: unknown, fromFlags: boolean): unknown {
  if (!fromFlags || !(error instanceof CgroupError) || error.jsonPath === undefined) return error;
  const flag = (Object.entries(flags) as [Flag, string][]).find(([, target]) => error.jsonPath === `linux.resources.${target}`)?.[0];
  return flag === undefined ? error : new UsageError(`--${flag}: ${error.message.slice(error.jsonPath.length + 2)}`);
}

function readResources(source: string): LinuxResources {
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (error) {
    throw new UsageError(`--resources: cannot read ${source === '-' ? 'the standard input' : source}: ${(error as { code?: string }).code ?? String(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--resources: ${source === '-' ? 'the standard input' : source} is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('--resources: must hold a JSON object (linux.resources)');
  return value as LinuxResources;
}

export const command: Command = {
  name: 'update',
  summary: "change the resource limits of a container (runc update)",
  usage: '<container-id>',
  minArgs: 1,
  maxArgs: 1,
  options: [
    { name: 'resources', short: 'r', type: 'string', value: 'FILE|-', summary: 'a linux.resources JSON object, from FILE or the standard input' },
    { name: 'memory', type: 'string', value: 'BYTES', summary: 'memory limit (512m, 1g...; -1 unlimited)' },
    { name: 'memory-reservation', type: 'string', value: 'BYTES', summary: 'memory soft limit' },
    { name: 'memory-swap', type: 'string', value: 'BYTES', summary: 'memory + swap limit (-1 unlimited swap)' },
    { name: 'cpu-share', type: 'string', value: 'N', summary: 'CPU shares, relative weight (2..262144)' },
    { name: 'cpu-shares', type: 'string', value: 'N', summary: 'same as --cpu-share (docker spelling)' },
    { name: 'cpu-quota', type: 'string', value: 'USEC', summary: 'CPU time allowed per period (-1 unlimited)' },
    { name: 'cpu-period', type: 'string', value: 'USEC', summary: 'CPU CFS period' },
    { name: 'cpu-burst', type: 'string', value: 'USEC', summary: 'CPU CFS burst' },
    { name: 'cpu-rt-period', type: 'string', value: 'USEC', summary: 'real-time period (cgroup v1)' },
    { name: 'cpu-rt-runtime', type: 'string', value: 'USEC', summary: 'real-time runtime (cgroup v1)' },
    { name: 'cpu-idle', type: 'string', value: '0|1', summary: 'SCHED_IDLE for the cgroup' },
    { name: 'cpuset-cpus', type: 'string', value: 'LIST', summary: 'CPUs to run on (0-3,5)' },
    { name: 'cpuset-mems', type: 'string', value: 'LIST', summary: 'memory nodes to use' },
    { name: 'pids-limit', type: 'string', value: 'N', summary: 'maximum number of processes (-1 unlimited)' },
    { name: 'blkio-weight', type: 'string', value: 'N', summary: 'block IO weight (10..1000)' },
  ],
  async run({ global, args, opts }) {
    const given = Object.keys(flags).filter((f) => opts[f] !== undefined);
    const source = opts['resources'] as string | undefined;
    if (source !== undefined && given.length > 0) {
      throw new UsageError(`--resources cannot be combined with --${given.join(', --')} (runc would ignore them)`);
    }
    if (source === undefined && given.length === 0) throw new UsageError('nothing to update: give --resources or at least one limit flag');
    const patch = source !== undefined ? readResources(source) : resourcesFromFlags(opts);
    let result;
    try {
      result = await updateContainer(runtimeOptions(global), args[0]!, patch);
    } catch (error) {
      throw flagError(error, source === undefined);
    }
    for (const what of result.ignored) {
      process.stderr.write(`husk: update: linux.resources.${what} ignored (a running container's ${what} rules are not updated, as with runc)\n`);
    }
    return 0;
  },
};
