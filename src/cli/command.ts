import { HuskError } from '../errors.js';

/**
 * What every verb of the CLI is: src/cli/<verb>.ts exports `command: Command`.
 * Verbs are thin glue: they parse, call the runtime (src/runtime/, src/cgroups/,
 * src/ps/...), and print. The registry (registry.ts) loads a verb only when it
 * runs, so `husk state` never pays for the code of `husk escape-lab`.
 */
export type OptionType = 'boolean' | 'string' | 'number' | 'list';

export interface OptionSpec {
  /** Long name without dashes: "pid-file". Parsed value lands in opts["pid-file"]. */
  name: string;
  short?: string;
  type: OptionType;
  summary: string;
  /** Placeholder for the help text ("FILE"). */
  value?: string;
}

export type OptionValue = boolean | string | number | string[];

export interface GlobalOptions {
  /** State directory, runc's --root (default /run/husk). */
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  /** Where cgroups of containers without an absolute cgroupsPath go (--cgroup-parent, HUSK_CGROUP_PARENT). */
  cgroupParent?: string;
  /** runc's --systemd-cgroup: systemd owns each container's cgroup, a transient scope. */
  systemdCgroup?: boolean;
  /** The image store (--store, HUSK_STORE). */
  store?: string;
}

export interface CommandContext {
  global: GlobalOptions;
  /** Positional arguments (after the verb's own flags). */
  args: string[];
  opts: Record<string, OptionValue | undefined>;
}

export interface Command {
  name: string;
  summary: string;
  /** Positional part of the usage line: "<container-id>". */
  usage: string;
  options: OptionSpec[];
  minArgs?: number;
  maxArgs?: number;
  /**
   * Stop parsing flags at the first positional argument and keep everything
   * after it verbatim (e.g. `husk ps <id> -o pid,args`).
   */
  passThroughAfterFirst?: boolean;
  run(ctx: CommandContext): Promise<number>;
}

/** An error the user caused (bad flag, unknown id...): printed without a stack. */
export class UsageError extends HuskError {
  override name = 'UsageError';
}
