import { constants as osConstants } from 'node:os';
import { native } from '../native/index.js';

export interface Exit {
  /** Exit code, or null when killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

/** The shell's convention: the code, or 128 + the signal number. */
export function exitStatusCode(exit: Exit): number {
  if (exit.exitCode !== null) return exit.exitCode;
  return 128 + (exit.signal ? osConstants.signals[exit.signal] : 0);
}

/**
 * A child this process cloned, held by a pidfd: signals never reach a recycled
 * pid, and the exit is awaited through libuv without a thread or a blocked loop.
 */
export class ChildHandle {
  private exit: Promise<Exit> | undefined;
  private pidfdOpen = true;

  constructor(
    readonly pid: number,
    private readonly pidfd: number,
  ) {}

  /** Resolves once with the exit status; the child is reaped (no zombie left). */
  wait(): Promise<Exit> {
    this.exit ??= this.reapLoop();
    return this.exit;
  }

  private async reapLoop(): Promise<Exit> {
    for (;;) {
      const status = native.reap(this.pidfd);
      if (status !== null) {
        this.release();
        return {
          exitCode: status.exitCode,
          signal: status.signal === null ? null : (signalNames.get(status.signal) ?? null),
        };
      }
      await native.waitReadable(this.pidfd);
    }
  }

  /** Sends a signal; false when the child is already gone. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (!this.pidfdOpen) return false;
    const number = typeof signal === 'number' ? signal : osConstants.signals[signal];
    try {
      native.pidfdSendSignal(this.pidfd, number);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'ESRCH') return false;
      throw error;
    }
  }

  private release(): void {
    if (!this.pidfdOpen) return;
    this.pidfdOpen = false;
    native.closeRange(this.pidfd, this.pidfd);
  }
}
