import type { PsTable } from './parse.js';
import { procTable } from './proc.js';
import { psTable } from './run.js';

/** Arguments that ask for exactly ps's default full listing: served from /proc. */
const DEFAULT_LISTINGS = new Set(['', '-ef', '-fe', '-e -f', '-f -e', '-f']);

/** True when psArgs select only `ps -ef`'s columns (selection is moot: we filter by pid anyway). */
export function isDefaultListing(psArgs: readonly string[]): boolean {
  return DEFAULT_LISTINGS.has(psArgs.join(' '));
}

/**
 * The process table of these pids: `ps -ef`'s columns read from /proc when no other
 * options are given (works without a ps binary), else the host's ps with psArgs.
 */
export async function top(pids: readonly number[], psArgs: readonly string[] = []): Promise<PsTable> {
  return isDefaultListing(psArgs) ? procTable(pids) : psTable(pids, psArgs);
}
