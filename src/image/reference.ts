/**
 * Image references as Docker spells them: `[registry/]path[:tag][@digest]`.
 * A first component with a "." or ":" (or "localhost") is a registry; otherwise
 * the registry is docker.io, where a one-part path gets "library/". The tag
 * defaults to "latest" unless a digest is given.
 */
import { ImageError } from './errors.js';

export const DEFAULT_REGISTRY = 'docker.io';

export interface Reference {
  registry: string;
  /** "library/busybox". */
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

export function parseReference(text: string): Reference {
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new ImageError(`invalid reference ${JSON.stringify(text)}: bad digest`, 'EINVAL');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageError(`invalid reference ${JSON.stringify(text)}: bad tag ${JSON.stringify(tag)}`, 'EINVAL');
  }
  const parts = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) {
    registry = parts.shift()!;
    if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  }
  if (parts.length === 0 || !parts.every((p) => COMPONENT.test(p))) {
    throw new ImageError(`invalid reference ${JSON.stringify(text)}: the name must be lowercase letters, digits and separators`, 'EINVAL');
  }
  if (registry === DEFAULT_REGISTRY && parts.length === 1) parts.unshift('library');
  const ref: Reference = { registry, repository: parts.join('/') };
  if (tag !== undefined) ref.tag = tag;
  else if (digest === undefined) ref.tag = 'latest';
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** "docker.io/library/busybox:latest" (the form names are stored in). */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The stored form of a name given by a user. */
export function normalizeName(text: string): string {
  return formatReference(parseReference(text));
}
