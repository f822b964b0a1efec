/**
 * The runtimes compared: husk's CLI (dist/cli.js under node), runc and crun,
 * each with its own state root. Each gives the argv of a verb; the bench runs
 * them through exec-timed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const huskCli = join(repoRoot, 'dist', 'cli.js');

export type RuntimeName = 'husk' | 'runc' | 'crun';

export interface Runtime {
  name: RuntimeName;
  version: string;
  /** argv up to and including the global flags. */
  prefix: string[];
  /** Where its containers' state lives. */
  root: string;
  /** crun: the mount namespace with an empty /sys/fs/cgroup/unified (see crunNamespace). */
  mntns?: string;
  env?: NodeJS.ProcessEnv;
}

/** Argv of one verb; the bundle and id may hold exec-timed's "%i". */
export const verbs = {
  run: (rt: Runtime, bundle: string, id: string): string[] => [...rt.prefix, 'run', '--bundle', bundle, id],
  runDetached: (rt: Runtime, bundle: string, id: string): string[] => [...rt.prefix, 'run', '--detach', '--bundle', bundle, id],
  create: (rt: Runtime, bundle: string, id: string, pidFile?: string): string[] => [
    ...rt.prefix,
    'create',
    '--bundle',
    bundle,
    ...(pidFile !== undefined ? ['--pid-file', pidFile] : []),
    id,
  ],
  start: (rt: Runtime, id: string): string[] => [...rt.prefix, 'start', id],
  state: (rt: Runtime, id: string): string[] => [...rt.prefix, 'state', id],
  kill: (rt: Runtime, id: string, signal: string): string[] => [...rt.prefix, 'kill', id, signal],
  delete: (rt: Runtime, id: string, force = false): string[] => [...rt.prefix, 'delete', ...(force ? ['--force'] : []), id],
  ps: (rt: Runtime, id: string): string[] => [...rt.prefix, 'ps', id],
  list: (rt: Runtime): string[] => [...rt.prefix, 'list', '--format', 'json'],
};

function which(binary: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const path = join(dir, binary);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function firstLine(argv: string[], env?: NodeJS.ProcessEnv): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: env ?? process.env, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim();
  } catch {
    return 'unknown';
  }
}

/** The environment husk runs in: this one, less or plus NODE_EXTRA_CA_CERTS. */
export function huskEnv(withExtraCaCerts: string | undefined): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  if (withExtraCaCerts !== undefined) env['NODE_EXTRA_CA_CERTS'] = withExtraCaCerts;
  return env;
}

export function huskRuntime(stateBase: string, env: NodeJS.ProcessEnv): Runtime {
  if (!existsSync(huskCli)) throw new Error(`${huskCli} is missing: run \`npm run build\` first`);
  const root = join(stateBase, 'husk');
  return {
    name: 'husk',
    version: `${firstLine([process.execPath, huskCli, '--version'], env)} (node ${process.version})`,
    prefix: [process.execPath, huskCli, '--root', root],
    root,
    env,
  };
}

/** runc or crun when installed, else undefined (the report says how to install it). */
export function externalRuntime(name: 'runc' | 'crun', stateBase: string, mntns?: string): Runtime | undefined {
  const binary = which(name);
  if (binary === undefined) return undefined;
  const root = join(stateBase, name);
  return {
    name,
    version: firstLine([binary, '--version']),
    prefix: [binary, '--root', root],
    root,
    ...(mntns !== undefined && { mntns }),
  };
}

export const installHint = 'apt-get install -y runc crun';
