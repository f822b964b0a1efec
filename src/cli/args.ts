import { type OptionSpec, type OptionValue, UsageError } from './command.js';

export interface ParsedArgs {
  opts: Record<string, OptionValue | undefined>;
  args: string[];
}

/**
 * Parses flags the way runc's CLI does: `--name value`, `--name=value`, `-n value`,
 * grouped short booleans (`-dt`), `--` ends the flags. With passThroughAfterFirst,
 * everything after the first positional is kept verbatim.
 */
export function parseArgs(argv: string[], specs: OptionSpec[], passThroughAfterFirst = false): ParsedArgs {
  const opts: Record<string, OptionValue | undefined> = {};
  const args: string[] = [];
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));

  const assign = (spec: OptionSpec, raw: string | undefined, flag: string): void => {
    if (spec.type === 'boolean') {
      opts[spec.name] = raw === undefined ? true : !['false', '0', 'no'].includes(raw);
      return;
    }
    if (raw === undefined) throw new UsageError(`flag ${flag} needs a value`);
    if (spec.type === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new UsageError(`flag ${flag}: "${raw}" is not a number`);
      opts[spec.name] = n;
    } else if (spec.type === 'list') {
      const list = (opts[spec.name] as string[] | undefined) ?? [];
      list.push(raw);
      opts[spec.name] = list;
    } else {
      opts[spec.name] = raw;
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (passThroughAfterFirst && args.length > 0) {
      args.push(arg);
      continue;
    }
    if (arg === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const spec = byLong.get(name);
      if (spec === undefined) throw new UsageError(`unknown flag --${name}`);
      let raw = eq === -1 ? undefined : arg.slice(eq + 1);
      if (raw === undefined && spec.type !== 'boolean') raw = argv[++i];
      assign(spec, raw, `--${name}`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      // -n value, -nvalue, or grouped booleans -dt
      for (let k = 1; k < arg.length; k++) {
        const spec = byShort.get(arg[k]!);
        if (spec === undefined) throw new UsageError(`unknown flag -${arg[k]}`);
        if (spec.type === 'boolean') {
          assign(spec, undefined, `-${arg[k]}`);
          continue;
        }
        const rest = arg.slice(k + 1);
        assign(spec, rest !== '' ? rest : argv[++i], `-${arg[k]}`);
        break;
      }
    } else {
      args.push(arg);
    }
  }
  return { opts, args };
}
