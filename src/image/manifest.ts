/**
 * Manifests and indexes, Docker's and OCI's media types alike, and the choice of
 * the host's platform in a manifest list / image index.
 */
import { checkDigest } from './digest.js';
import { ImageError } from './errors.js';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(', ');

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

export interface Manifest {
  config: Descriptor;
  layers: Descriptor[];
}

export interface Index {
  manifests: Descriptor[];
}

/** The OCI/Go architecture name of this host. */
export function hostPlatform(): { os: string; architecture: string; variant?: string } {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

/** Parses a manifest or an index; says which it is. */
export function parseManifest(data: Buffer, what: string, mediaType?: string): { kind: 'manifest'; manifest: Manifest } | { kind: 'index'; index: Index } {
  let json: { mediaType?: string; manifests?: unknown; layers?: unknown; config?: unknown; schemaVersion?: number };
  try {
    json = JSON.parse(data.toString('utf8')) as typeof json;
  } catch (error) {
    throw new ImageError(`${what}: not JSON`, 'EINVAL', { cause: error });
  }
  const type = json.mediaType ?? mediaType;
  if (json.schemaVersion === 1) throw new ImageError(`${what}: Docker schema 1 manifests are not supported (schema 2 and OCI are)`, 'EINVAL');
  if (Array.isArray(json.manifests) || type === MEDIA.ociIndex || type === MEDIA.dockerList) {
    const manifests = (json.manifests ?? []) as Descriptor[];
    for (const d of manifests) checkDigest(d.digest, `${what}: manifest`);
    return { kind: 'index', index: { manifests } };
  }
  const config = json.config as Descriptor | undefined;
  if (config === undefined || !Array.isArray(json.layers)) throw new ImageError(`${what}: neither a manifest nor an index`, 'EINVAL');
  checkDigest(config.digest, `${what}: config`);
  const layers = json.layers as Descriptor[];
  for (const layer of layers) checkDigest(layer.digest, `${what}: layer`);
  return { kind: 'manifest', manifest: { config, layers } };
}

/** The entry of an index for this host's platform (entries without a platform match anything). */
export function selectPlatform(index: Index, what: string): Descriptor {
  const host = hostPlatform();
  const candidates = index.manifests.filter((d) => d.mediaType === undefined || !d.mediaType.includes('attestation'));
  const match =
    candidates.find((d) => d.platform?.os === host.os && d.platform?.architecture === host.architecture) ??
    candidates.find((d) => d.platform === undefined && d.annotations?.['vnd.docker.reference.type'] === undefined);
  if (match === undefined) {
    const offered = candidates.map((d) => `${d.platform?.os}/${d.platform?.architecture}`).join(', ');
    throw new ImageError(`${what}: no image for ${host.os}/${host.architecture} (offered: ${offered || 'none'})`, 'ENOTFOUND');
  }
  return match;
}
