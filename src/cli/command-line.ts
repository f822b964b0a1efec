/**
 * The shape of a command line: the global flags (before the verb), where the verb is, and
 * which verbs are light. Shared by the CLI (src/cli/main.ts) and the launcher
 * (src/cli/launcher.ts), which picks the bundle to compile from the verb before any of the
 * CLI is loaded, so this module imports nothing that runs.
 */
import type { OptionSpec } from './command.js';

export const globalSpecs: OptionSpec[] = [
  { name: 'root', type: 'string', value: 'DIR', summary: 'state directory (default /run/husk; rootless $XDG_RUNTIME_DIR/husk)' },
  { name: 'log', type: 'string', value: 'FILE', summary: 'append errors and debug messages to FILE' },
  { name: 'log-format', type: 'string', value: 'text|json', summary: 'format of --log (default text)' },
  { name: 'debug', type: 'boolean', summary: 'log what is done, step by step' },
  { name: 'cgroup-parent', type: 'string', value: 'PATH', summary: 'parent of relative cgroupsPaths (env HUSK_CGROUP_PARENT)' },
  { name: 'systemd-cgroup', type: 'boolean', summary: 'let systemd own each container\'s cgroup (a scope; cgroupsPath "slice:prefix:name")' },
  { name: 'store', type: 'string', value: 'DIR', summary: 'image store (env HUSK_STORE; default /var/lib/husk, rootless $XDG_DATA_HOME/husk or ~/.local/share/husk)' },
  { name: 'help', short: 'h', type: 'boolean', summary: 'show help' },
  { name: 'version', short: 'v', type: 'boolean', summary: 'print the version' },
];

/** The index of the verb in argv (the first word that is neither a global flag nor its value), or -1. */
export function verbIndex(argv: readonly string[]): number {
  return argv.findIndex((a, i) => !a.startsWith('-') && !isGlobalValue(argv, i));
}

/** True when argv[i] is the value of a global flag that takes one (`--root DIR`). */
function isGlobalValue(argv: readonly string[], i: number): boolean {
  if (i === 0) return false;
  const prev = argv[i - 1]!;
  if (!prev.startsWith('--') || prev.includes('=')) return false;
  const spec = globalSpecs.find((s) => s.name === prev.slice(2));
  return spec !== undefined && spec.type !== 'boolean';
}

/**
 * The verbs an engine calls several times per container, after create: they run from a
 * small bundle of their own (dist/cli-light.cjs, src/cli-light.ts; their registry is
 * src/cli/light-verbs.ts). Each needs only src/runtime/lifecycle.ts and the cgroup
 * manager; none passes fds on (--preserve-fds).
 */
export const lightVerbNames = ['start', 'state', 'kill', 'delete', 'list', 'pause', 'resume'] as const;

export type LightVerb = (typeof lightVerbNames)[number];

export function isLightVerb(verb: string | undefined): verb is LightVerb {
  return (lightVerbNames as readonly (string | undefined)[]).includes(verb);
}
