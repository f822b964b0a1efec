import type { CgroupStats } from '../cgroups/index.js';
import { containerCgroup } from '../runtime/lifecycle.js';
import { ContainerError } from '../runtime/errors.js';
import { containerStats, statsRefusal } from '../runtime/resources.js';
import { type Command, UsageError } from './command.js';
import { write } from './output.js';
import { runtimeOptions } from './runtime-options.js';

/** Go's math.MaxUint64, which runc prints for an unlimited memory limit (beyond a JS number). */
const UNLIMITED = '18446744073709551615';
/** Stands for UNLIMITED until the line is serialized. */
const UNLIMITED_MARK = 'husk:unlimited-uint64';

/**
 * CgroupStats -> the `data` of runc's stats event (runc types.Stats: same field names and
 * units: nanoseconds for CPU, bytes for memory), so tools that read `runc events` read ours.
 * memory.event_count carries max/oom/oom_kill; memory.usage.max is the peak.
 */
export function toRuncStats(stats: CgroupStats): Record<string, unknown> {
  const limit = (v: number | undefined): number | string => (v === undefined ? UNLIMITED_MARK : v);
  const data: Record<string, unknown> = {};
  const cpu = stats.cpu;
  data['cpu'] = {
    usage: { total: (cpu?.usageUsec ?? 0) * 1000, kernel: (cpu?.systemUsec ?? 0) * 1000, user: (cpu?.userUsec ?? 0) * 1000 },
    throttling: { periods: cpu?.periods ?? 0, throttledPeriods: cpu?.throttledPeriods ?? 0, throttledTime: (cpu?.throttledUsec ?? 0) * 1000 },
  };
  const mem = stats.memory;
  data['memory'] = {
    usage: { limit: limit(mem?.limitBytes), usage: mem?.usageBytes ?? 0, max: mem?.peakBytes ?? 0, failcnt: mem?.events.max ?? 0 },
    swap: { limit: 0, usage: mem?.swapUsageBytes ?? 0, failcnt: 0 },
    event_count: {
      ...(mem?.events.low !== undefined && { low: mem.events.low }),
      ...(mem?.events.high !== undefined && { high: mem.events.high }),
      max: mem?.events.max ?? 0,
      oom: mem?.events.oom ?? 0,
      oom_kill: mem?.events.oomKill ?? 0,
    },
  };
  data['pids'] = { current: stats.pids?.current ?? 0, limit: stats.pids?.limit ?? 0 };
  const devices = stats.io?.devices ?? [];
  const entries = (read: 'readBytes' | 'readOps', written: 'writeBytes' | 'writeOps') =>
    devices.flatMap((d) => [
      { major: d.major, minor: d.minor, op: 'Read', value: d[read] },
      { major: d.major, minor: d.minor, op: 'Write', value: d[written] },
      { major: d.major, minor: d.minor, op: 'Total', value: d[read] + d[written] },
    ]);
  data['blkio'] = devices.length === 0 ? {} : { ioServiceBytesRecursive: entries('readBytes', 'writeBytes'), ioServicedRecursive: entries('readOps', 'writeOps') };
  data['hugetlb'] = Object.fromEntries(
    Object.entries(stats.hugetlb ?? {}).map(([size, h]) => [size, { usage: h.usageBytes, ...(h.limitBytes !== undefined && { max: h.limitBytes }), failcnt: h.failures }]),
  );
  return data;
}

/** One event line, as runc's json.Encoder writes it. */
export function eventLine(type: string, id: string, data?: Record<string, unknown>): string {
  return JSON.stringify({ type, id, ...(data !== undefined && { data }) }).replaceAll(`"${UNLIMITED_MARK}"`, UNLIMITED) + '\n';
}

/** Go's time.ParseDuration for what people type: "5s", "500ms", "1m30s", "0.5s". */
export function parseDuration(text: string): number {
  const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let ms = 0;
  let matched = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    ms += Number(m[1]) * unitMs[m[2]!]!;
    matched = re.lastIndex;
  }
  if (text === '' || matched !== text.length) throw new UsageError(`--interval: "${text}" is not a duration (e.g. 5s, 500ms, 1m)`);
  if (ms <= 0) throw new UsageError('--interval: the interval must be greater than 0');
  return ms;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const command: Command = {
  name: 'events',
  summary: "print a container's cgroup stats (and OOM events) as JSON lines (runc events)",
  usage: '<container-id>',
  minArgs: 1,
  maxArgs: 1,
  options: [
    { name: 'stats', type: 'boolean', summary: 'print the stats once and exit' },
    { name: 'interval', type: 'string', value: 'DURATION', summary: 'time between stats events (default 5s)' },
  ],
  async run({ global, args, opts }) {
    const rt = runtimeOptions(global);
    const id = args[0]!;
    const interval = parseDuration((opts['interval'] as string | undefined) ?? '5s');
    if (opts['stats']) {
      await write(process.stdout, eventLine('stats', id, toRuncStats(containerStats(rt, id))));
      return 0;
    }
    // Until the container stops: stats every interval, an "oom" event whenever the OOM
    // counters grow (checked more often, as runc's OOM notifier reacts at once).
    let oomSeen: number | undefined;
    let nextStats = 0;
    for (;;) {
      let status;
      let stats: CgroupStats;
      try {
        const c = containerCgroup(rt, id);
        status = c.status;
        stats = c.cgroup.stats();
      } catch (error) {
        if (oomSeen === undefined) throw error;
        return 0; // deleted meanwhile
      }
      if (status === 'stopped') {
        if (oomSeen === undefined) throw new ContainerError(statsRefusal(id), 'ESTATE');
        return 0;
      }
      const ooms = (stats.memory?.events.oom ?? 0) + (stats.memory?.events.oomKill ?? 0);
      if (oomSeen !== undefined && ooms > oomSeen) await write(process.stdout, eventLine('oom', id));
      oomSeen = ooms;
      if (Date.now() >= nextStats) {
        await write(process.stdout, eventLine('stats', id, toRuncStats(stats)));
        nextStats = Date.now() + interval;
      }
      await sleep(Math.min(200, interval));
    }
  },
};
