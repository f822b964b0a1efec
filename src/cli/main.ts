/**
 * husk's command line, shaped like runc's: `husk [global flags] <verb> [flags] [args]`,
 * over a set of verbs: every verb (src/cli.ts, dist/cli-bundle.cjs) or only the light
 * ones (src/cli-light.ts, dist/cli-light.cjs).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { parseArgs } from './args.js';
import { type GlobalOptions, UsageError } from './command.js';
import { globalSpecs, verbIndex } from './command-line.js';
import { exitWhenFlushed, noteStdioStreams, printOut, printTo } from './output.js';
import type { VerbEntry } from './registry.js';
import { defaultStateRoot } from '../sys/rootless.js';
import { runtimeOptions } from './runtime-options.js';

type Verbs = Record<string, VerbEntry>;

function usage(verbs: Verbs): string {
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

async function main(argv: string[], verbs: Verbs): Promise<number> {
  // Global flags come before the verb.
  const verbAt = verbIndex(argv);
  const globalPart = verbAt === -1 ? argv : argv.slice(0, verbAt);
  const { opts } = parseArgs(globalPart, globalSpecs);
  if (opts['version']) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    await printOut(`husk version ${pkg.version}\nspec: 1.2.0\n`);
    return 0;
  }
  if (verbAt === -1 || opts['help']) {
    await printOut(usage(verbs) + '\n');
    return verbAt === -1 && !opts['help'] ? 2 : 0;
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

  const verbName = argv[verbAt]!;
  const entry = verbs[verbName];
  if (entry === undefined) throw new UsageError(`unknown command "${verbName}" (see husk --help)`);
  const { command } = await entry.load();
  const rest = argv.slice(verbAt + 1);
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

/** Runs one command line; returns its exit code (an error is printed as `husk: MESSAGE`). */
export async function runCli(argv: string[], verbs: Verbs): Promise<number> {
  try {
    return await main(argv, verbs);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    let text = `husk: ${message}\n`;
    if (argv.includes('--debug') && error instanceof Error && error.stack) text += error.stack + '\n';
    await printTo(2, text).catch(() => {});
    return error instanceof UsageError ? 2 : 1;
  }
}

/** What a bundle's entry exports (the build's code-cache training runs each verb once). */
export interface CliProgram {
  runCli(argv: string[]): Promise<number>;
  verbNames(): string[];
}

/**
 * The program over `verbs`, unless the build is training the code cache (src/cli/launcher.ts):
 * it exits as soon as the verb is done and its output is written.
 */
export function runProgram(verbs: Verbs): CliProgram {
  if (!(Symbol.for('husk.cli.training') in globalThis)) {
    noteStdioStreams();
    void runCli(process.argv.slice(2), verbs).then(exitWhenFlushed);
  }
  return { runCli: (argv) => runCli(argv, verbs), verbNames: () => Object.keys(verbs) };
}
