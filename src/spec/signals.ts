/**
 * Signal names and numbers as `runc kill` takes them: "SIGTERM", "TERM",
 * "term", "15". Beyond runc: the real-time signals as "SIGRTMIN+n",
 * "RTMAX-n" (glibc numbering: SIGRTMIN is 34, SIGRTMAX 64).
 */
import { constants } from 'node:os';
import { HuskError } from '../errors.js';

export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

export class UnknownSignalError extends HuskError {
  override name = 'UnknownSignalError';
  constructor(readonly input: string, detail?: string) {
    super(`unknown signal "${input}"${detail ? ` (${detail})` : ''}`);
  }
}

/**
 * The number of a signal given by name (any case, with or without "SIG") or
 * by number (0 to 64; 0 only checks that the process exists).
 */
export function parseSignal(input: string): number {
  const text = input.trim();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n > SIGRTMAX) throw new UnknownSignalError(input, `signal numbers go from 0 to ${SIGRTMAX}`);
    return n;
  }
  let name = text.toUpperCase();
  if (!name.startsWith('SIG')) name = 'SIG' + name;
  const signals = constants.signals as Record<string, number | undefined>;
  const known = Object.hasOwn(signals, name) ? signals[name] : undefined;
  if (known !== undefined) return known;

  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt !== null) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const offset = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '+' ? 1 : -1);
    const n = base + offset;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
    throw new UnknownSignalError(input, `real-time signals go from SIGRTMIN (${SIGRTMIN}) to SIGRTMAX (${SIGRTMAX})`);
  }
  throw new UnknownSignalError(input);
}

/** The conventional name of a signal number ("SIGTERM", "SIGRTMIN+3"), or undefined. */
export function signalName(n: number): string | undefined {
  if (n >= SIGRTMIN && n <= SIGRTMAX) {
    if (n === SIGRTMIN) return 'SIGRTMIN';
    if (n === SIGRTMAX) return 'SIGRTMAX';
    return n - SIGRTMIN <= SIGRTMAX - n ? `SIGRTMIN+${n - SIGRTMIN}` : `SIGRTMAX-${SIGRTMAX - n}`;
  }
  // First name wins: node lists SIGABRT before its alias SIGIOT, SIGIO before SIGPOLL.
  for (const [name, value] of Object.entries(constants.signals)) {
    if (value === n) return name;
  }
  return undefined;
}
