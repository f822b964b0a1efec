/**
 * Bounded waits for an event a test depends on (a process running, a file written, a socket listening),
 * instead of a fixed sleep that a loaded machine outlasts. The bound is generous: it only turns a hang
 * into a clear failure.
 */
import { readFileSync } from 'node:fs';

/** Polls `probe` until it returns a value (not undefined), at most `timeoutMs`; throws naming `what`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Whether process `pid` has a handler installed for signal number `signal` (SigCgt in /proc/PID/status). */
export function catchesSignal(pid: number, signal: number): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false;
  }
  const mask = status.match(/^SigCgt:\s*([0-9a-f]+)$/m)?.[1];
  return mask !== undefined && ((BigInt(`0x${mask}`) >> BigInt(signal - 1)) & 1n) === 1n;
}
