/** Errors of the spec layer: a config that breaks a rule, a bundle that cannot be loaded. */
import { HuskError } from '../errors.js';

/**
 * A config.json (or process.json) value that breaks a rule. The message is
 * exactly `<jsonPath>: <rule>`, e.g. `linux.namespaces[2].type: unknown namespace "pidd"`.
 */
export class SpecError extends HuskError {
  override name = 'SpecError';
  /** The file the config came from, when it came from one. */
  file?: string;

  constructor(
    /** Where the offending value is: "process.capabilities.bounding[3]", "(root)" for the document itself. */
    readonly jsonPath: string,
    /** What is wrong with it, in words. */
    readonly rule: string,
  ) {
    super(`${jsonPath}: ${rule}`);
  }
}

export type BundleErrorKind =
  | 'bundle-missing'
  | 'bundle-not-directory'
  | 'config-missing'
  | 'config-unreadable'
  | 'config-invalid-json'
  | 'rootfs-missing'
  | 'rootfs-not-directory';

/** A bundle that cannot be loaded: what went wrong and at which path. */
export class BundleError extends HuskError {
  override name = 'BundleError';
  // code: the errno name of the underlying failure ("ENOENT", "EACCES"...), when there was one.
  /** The path concerned: bundle dir, config.json or rootfs. */
  declare readonly path: string;
  /** 1-based position of a JSON syntax error. */
  readonly line?: number;
  readonly column?: number;

  constructor(
    readonly kind: BundleErrorKind,
    path: string,
    message: string,
    details: { code?: string; line?: number; column?: number; cause?: unknown } = {},
  ) {
    super(message, { path, ...(details.code !== undefined && { code: details.code }), cause: details.cause });
    if (details.line !== undefined) this.line = details.line;
    if (details.column !== undefined) this.column = details.column;
  }
}
