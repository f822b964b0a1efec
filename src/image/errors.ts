/**
 * What goes wrong with images: a reference that names nothing, a blob whose
 * digest does not match, a layer that tries to write outside itself, a
 * registry that refuses. `code` is stable for callers; `path`, `digest` and
 * `cause` say where.
 */
import { HuskError } from '../errors.js';

export type ImageErrorCode =
  | 'ENOTFOUND' // no such image, blob or layer
  | 'EINVAL' // a malformed reference, archive, manifest or config
  | 'EDIGEST' // content does not match its digest
  | 'EHOSTILE' // a layer entry that would write outside the layer, or that husk refuses to create
  | 'EINUSE' // the image is used by a container
  | 'EREGISTRY' // the registry answered with an error
  | 'EAUTH'; // the registry refused our credentials

export class ImageError extends HuskError {
  override name = 'ImageError';
  declare readonly code: ImageErrorCode;
  readonly digest?: string;
  constructor(message: string, code: ImageErrorCode, context: { path?: string; digest?: string; cause?: unknown } = {}) {
    super(message, { code, ...(context.path !== undefined && { path: context.path }), cause: context.cause });
    if (context.digest !== undefined) this.digest = context.digest;
  }
}
