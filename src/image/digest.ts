/** Content digests ("sha256:<64 hex>") and the chain IDs of the image-spec. */
import { ImageError } from './errors.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Throws unless `value` is a sha256 digest (the only algorithm husk accepts). */
export function checkDigest(value: unknown, what: string): string {
  if (typeof value !== 'string' || !DIGEST.test(value)) {
    throw new ImageError(`${what}: ${JSON.stringify(value)} is not a sha256 digest`, 'EINVAL');
  }
  return value;
}

export function sha256(data: Buffer | string): string {
  // node:crypto loads when a digest is computed, not with every module that imports this one.
  return `sha256:${process.getBuiltinModule('node:crypto').createHash('sha256').update(data).digest('hex')}`;
}

/** The 64 hex digits of a digest (a file name in the store). */
export function hexOf(digest: string): string {
  return digest.slice('sha256:'.length);
}

/**
 * The chain ID of every layer (image-spec config.md): the bottom layer's is its
 * diffID, each next one sha256(parent chain ID + " " + diffID). A layer stored
 * under its chain ID is the same bytes whichever image brought it.
 */
export function chainIds(diffIds: string[]): string[] {
  const chains: string[] = [];
  for (const diffId of diffIds) {
    const parent = chains[chains.length - 1];
    chains.push(parent === undefined ? diffId : sha256(`${parent} ${diffId}`));
  }
  return chains;
}

/** Throws EDIGEST when the computed digest is not the expected one. */
export function verifyDigest(expected: string, actual: string, what: string): void {
  if (expected !== actual) throw new ImageError(`${what}: digest mismatch: expected ${expected}, got ${actual}`, 'EDIGEST', { digest: expected });
}
