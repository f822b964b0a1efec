import { HuskError, type HuskErrorContext } from '../errors.js';

/** Everything src/cgroups throws: says what, where (file, JSON path), the errno and the step. */
export class CgroupError extends HuskError {
  override readonly name = 'CgroupError';
  // path: the cgroup file or directory; code/errno: when a system call failed;
  // step: what we were doing ("create", "apply", "destroy"...).
  /** The config field concerned, e.g. "linux.resources.memory.limit". */
  declare readonly jsonPath?: string;

  constructor(message: string, details: HuskErrorContext & { jsonPath?: string } = {}) {
    const { jsonPath, ...context } = details;
    super(message, context);
    if (jsonPath !== undefined) (this as { jsonPath?: string }).jsonPath = jsonPath;
  }
}

/** A Node system error (fs.*Sync) as it arrives in a catch. */
export interface ErrnoLike {
  code?: string;
  errno?: number;
}
