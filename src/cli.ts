#!/usr/bin/env node
/**
 * husk's command line, shaped like runc's: `husk [global flags] <verb> [flags] [args]`.
 */
// First: it records the fds husk was given before husk opens any of its own (--preserve-fds).
import './runtime/inherited-fds.js';
import { appendFileSync } from 'node:fs';
import { parseArgs } from './cli/args.js';
import { type GlobalOptions, type OptionSpec, UsageError } from './cli/command.js';
import { verbs } from './cli/registry.js';
import { defaultStateRoot } from './sys/rootless.js';

const globalSpecs: OptionSpec[] = [
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

function usage(): string {
  const names = Object.keys(verbs);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'husk: a Linux container runtime (OCI runtime-spec 1.x, runc-compatible)',
    '',
    'usage: husk [global options] <command> [options] [arguments]',
    '',
    'commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${verbs[n]!.summary}`),
    '',
    'global options:',
    ...globalSpecs.map((s) => `  --${s.name}${s.value ? ' ' + s.value : ''}`.padEnd(30) + s.summary),
    '',
    "run 'husk <command> --help' for a command's options",
  ].join('\n');
}

function logLine(global: GlobalOptions, level: string, msg: string): void {
  if (global.log === undefined) return;
  const line =
    global.logFormat === 'json'
      ? JSON.stringify({ level, msg, time: new Date().toISOString() })
      : `time="${new Date().toISOString()}" level=${level} msg="${msg.replace(/"/g, '\\"')}"`;
  try {
    appendFileSync(global.log, line + '\n');
  } catch {
    // a log we cannot write must not hide the error itself
  }
}

async function main(argv: string[]): Promise<number> {
  // Global flags come before the verb.
  const verbIndex = argv.findIndex((a, i) => !a.startsWith('-') && !isGlobalValue(argv, i));
  const globalPart = verbIndex === -1 ? argv : argv.slice(0, verbIndex);
  const { opts } = parseArgs(globalPart, globalSpecs);
  if (opts['version']) {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`husk version ${pkg.version}\nspec: 1.2.0\n`);
    return 0;
  }
  if (verbIndex === -1 || opts['help']) {
    process.stdout.write(usage() + '\n');
    return verbIndex === -1 && !opts['help'] ? 2 : 0;
  }
  const logFormat = (opts['log-format'] as string | undefined) ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new UsageError(`--log-format must be text or json`);
  const global: GlobalOptions = {
    // Rootless: $XDG_RUNTIME_DIR/husk, runc's rule (src/sys/rootless.ts).
    root: (opts['root'] as string | undefined) ?? process.env['HUSK_ROOT'] ?? defaultStateRoot(),
    logFormat,
    debug: Boolean(opts['debug']),
  };
  const log = opts['log'] as string | undefined;
  if (log !== undefined) global.log = log;
  const cgroupParent = (opts['cgroup-parent'] as string | undefined) ?? process.env['HUSK_CGROUP_PARENT'];
  if (cgroupParent !== undefined) global.cgroupParent = cgroupParent;
  if (opts['systemd-cgroup']) global.systemdCgroup = true;

  const store = (opts['store'] as string | undefined) ?? process.env['HUSK_STORE'];
  if (store !== undefined) global.store = store;

  const verbName = argv[verbIndex]!;
  const entry = verbs[verbName];
  if (entry === undefined) throw new UsageError(`unknown command "${verbName}" (see husk --help)`);
  const { command } = await entry.load();
  const rest = argv.slice(verbIndex + 1);
  if (rest[0] === '--help' || rest[0] === '-h') {
    const lines = [`usage: husk ${command.name} [options] ${command.usage}`, '', command.summary, ''];
    for (const s of command.options) {
      const flag = `  ${s.short ? `-${s.short}, ` : ''}--${s.name}${s.value ? ' ' + s.value : ''}`;
      lines.push(flag.padEnd(34) + s.summary);
    }
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  }
  const parsed = parseArgs(rest, command.options, command.passThroughAfterFirst);
  if (command.minArgs !== undefined && parsed.args.length < command.minArgs) {
    throw new UsageError(`${command.name}: missing argument (usage: husk ${command.name} ${command.usage})`);
  }
  if (command.maxArgs !== undefined && parsed.args.length > command.maxArgs) {
    throw new UsageError(`${command.name}: too many arguments (usage: husk ${command.name} ${command.usage})`);
  }
  try {
    return await command.run({ global, args: parsed.args, opts: parsed.opts });
  } catch (error) {
    logLine(global, 'error', error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/** True when argv[i] is the value of a global flag that takes one (`--root DIR`). */
function isGlobalValue(argv: string[], i: number): boolean {
  if (i === 0) return false;
  const prev = argv[i - 1]!;
  if (!prev.startsWith('--') || prev.includes('=')) return false;
  const spec = globalSpecs.find((s) => s.name === prev.slice(2));
  return spec !== undefined && spec.type !== 'boolean';
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const debug = process.argv.includes('--debug');
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`husk: ${message}\n`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
