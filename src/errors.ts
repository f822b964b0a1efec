/** What every layer's errors share. */

/** The errno name ("ENOENT") of a Node system error as it arrives in a catch, if it is one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The context every husk error may carry: what failed, where, and the kernel's answer. */
export interface HuskErrorContext {
  /** The errno name ("ENOENT"), or husk's own code for a failure that is not a kernel error ("ESTATE"). */
  code?: string;
  /** The errno, negative as Node reports it. */
  errno?: number;
  /** What husk was doing: "create", "mount proc on /proc". */
  step?: string;
  /** The file or directory concerned. */
  path?: string;
  /** The kind of the plan op that failed ("mount"), for a failure in the cloned child. */
  op?: string;
  cause?: unknown;
}

/**
 * The base of every error husk throws on purpose (SetupError, ContainerError,
 * SpecError, CgroupError...): `instanceof HuskError` tells them from bugs, and
 * code, errno, step, path and op are where each one keeps its context.
 */
export class HuskError extends Error {
  override name = 'HuskError';
  // Declared, not defined: a field absent from the context is absent from the error.
  declare readonly code?: string;
  declare readonly errno?: number;
  declare readonly step?: string;
  declare readonly path?: string;
  declare readonly op?: string;

  constructor(message: string, context: HuskErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    const self = this as { -readonly [K in keyof HuskErrorContext]: HuskErrorContext[K] };
    if (context.code !== undefined) self.code = context.code;
    if (context.errno !== undefined) self.errno = context.errno;
    if (context.step !== undefined) self.step = context.step;
    if (context.path !== undefined) self.path = context.path;
    if (context.op !== undefined) self.op = context.op;
  }
}
