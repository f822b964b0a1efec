import { HuskError } from '../errors.js';

/** Why a process table could not be produced. */
export type PsErrorReason =
  /** An `-o` spec names another column `PID` (moby refuses it: the PID filter would read the wrong column). */
  | 'relabelled-pid'
  /** `--no-headers` and friends: without the header the PID column cannot be found. */
  | 'no-headers'
  /** The host has no `ps` binary and options were given that only `ps` understands. */
  | 'ps-missing'
  /** `ps` ran and failed (bad option...); `stderr` carries its first line. */
  | 'ps-failed'
  /** The output has no `PID` column or a PID cell that is not a number. */
  | 'unparsable-output';

export interface PsErrorContext {
  reason: PsErrorReason;
  /** The ps arguments as given by the caller. */
  psArgs?: string[];
  /** First line of ps's stderr, when ps failed. */
  stderr?: string;
  /** Node's error code (e.g. ENOENT) when spawning failed. */
  code?: string;
}

export class PsError extends HuskError {
  override name = 'PsError';
  readonly reason: PsErrorReason;
  readonly psArgs?: string[];
  readonly stderr?: string;

  constructor(message: string, context: PsErrorContext) {
    super(message, context.code === undefined ? {} : { code: context.code });
    this.reason = context.reason;
    if (context.psArgs !== undefined) this.psArgs = context.psArgs;
    if (context.stderr !== undefined) this.stderr = context.stderr;
  }
}
