/** Everything src/cgroups throws: says what, where (file, JSON path), the errno and the step. */
export class CgroupError extends Error {
  override readonly name = 'CgroupError';
  /** The cgroup file or directory concerned. */
  readonly path?: string;
  /** The config field concerned, e.g. "linux.resources.memory.limit". */
  readonly jsonPath?: string;
  /** errno name ("EBUSY") when a system call failed. */
  readonly code?: string;
  readonly errno?: number;
  /** What we were doing: "create", "apply", "destroy"... */
  readonly step?: string;

  constructor(
    message: string,
    details: { path?: string; jsonPath?: string; code?: string; errno?: number; step?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    if (details.path !== undefined) this.path = details.path;
    if (details.jsonPath !== undefined) this.jsonPath = details.jsonPath;
    if (details.code !== undefined) this.code = details.code;
    if (details.errno !== undefined) this.errno = details.errno;
    if (details.step !== undefined) this.step = details.step;
  }
}

/** A Node system error (fs.*Sync) as it arrives in a catch. */
export interface ErrnoLike {
  code?: string;
  errno?: number;
}
