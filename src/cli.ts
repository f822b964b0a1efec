#!/usr/bin/env node
/**
 * husk's command line, shaped like runc's: `husk [global flags] <verb> [flags] [args]`.
 */
// First: it records the fds husk was given before husk opens any of its own (--preserve-fds).
import './runtime/inherited-fds.js';
import { appendFileSync, readFileSync } from 'node:fs';
import { parseArgs } from './cli/args.js';
import { type GlobalOptions, type OptionSpec, UsageError } from './cli/command.js';
import { exitWhenFlushed, noteStdioStreams, printOut, printTo } from './cli/output.js';
import { verbs } from './cli/registry.js';
import { defaultStateRoot } from './sys/rootless.js';
import { runtimeOptions } from './cli/runtime-options.js';

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
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    await printOut(`husk version ${pkg.version}\nspec: 1.2.0\n`);
    return 0;
  }
  if (verbIndex === -1 || opts['help']) {
    await printOut(usage() + '\n');
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
  // Set by the launcher (src/cli/launcher.ts); absent when this file runs unbundled.
  const cache = (globalThis as Record<symbol, unknown>)[Symbol.for('husk.cli.codeCache')] as string | undefined;
  if (cache !== undefined) runtimeOptions(global).debug?.(`code cache: ${cache}`);
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
    await printOut(lines.join('\n') + '\n');
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

/** Runs one command line; returns its exit code (an error is printed as `husk: MESSAGE`). */
export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    let text = `husk: ${message}\n`;
    if (argv.includes('--debug') && error instanceof Error && error.stack) text += error.stack + '\n';
    await printTo(2, text).catch(() => {});
    return error instanceof UsageError ? 2 : 1;
  }
}

// The program, unless the build is training the code cache (src/cli/launcher.ts): it
// exits as soon as the verb is done and its output is written.
if (!(Symbol.for('husk.cli.training') in globalThis)) {
  noteStdioStreams();
  void runCli(process.argv.slice(2)).then(exitWhenFlushed);
}

/** The verbs' names (the build's code-cache training runs each once). */
export function verbNames(): string[] {
  return Object.keys(verbs);
}
