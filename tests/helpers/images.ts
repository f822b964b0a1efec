/**
 * Container images for engine tests, built locally (no registry): a rootfs of the static busybox
 * (/bin/busybox plus one symlink per applet, a passwd and group file) written as a one-layer image in
 * both archive formats engines load: an OCI image layout (`ctr images import`, `podman load`) and a
 * docker-archive (`docker load`, `podman load`).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, copyFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

export const busyboxBinary = '/bin/busybox';

export interface LocalImage {
  /** The name the archives carry, as engines show it ("husk-busybox:latest"; docker.io/library/ when qualified). */
  name: string;
  /** Fully qualified, as containerd and podman store it. */
  qualifiedName: string;
  rootfs: string;
  /** OCI image layout as a tar (index.json names the image for containerd). */
  ociArchive: string;
  /** docker-archive (manifest.json with RepoTags). */
  dockerArchive: string;
}

export type BusyboxImage = LocalImage;

/** The part of an image's config the tests set. */
export interface ImageConfig {
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
}

/** A busybox rootfs in `dir`: /bin/busybox, its applets as symlinks, /etc/passwd and /etc/group. */
export function makeBusyboxRootfs(dir: string): string {
  if (!existsSync(busyboxBinary)) throw new Error(`${busyboxBinary} is missing: apt-get install busybox-static (scripts/install-test-deps.sh)`);
  for (const sub of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'data']) mkdirSync(join(dir, sub), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(busyboxBinary, join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  const applets = execFileSync(busyboxBinary, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a !== '' && a !== 'busybox');
  for (const applet of applets) symlinkSync('busybox', join(dir, 'bin', applet));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  return dir;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** A tar of `dir`'s contents with owners and times fixed, so the layer's digest depends on the content only. */
function tarOf(dir: string, out: string): void {
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', dir, '-cf', out, '.']);
}

/** Builds the busybox image in `dir` (rootfs and both archives); `name` without a registry ("husk-busybox:latest"). */
export function buildBusyboxImage(dir: string, name = 'husk-busybox:latest'): BusyboxImage {
  return buildImage(dir, name, makeBusyboxRootfs, { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] });
}

/**
 * A one-layer image in `dir` of the rootfs `makeRootfs` fills (rootfs/, and both archives); `name`
 * without a registry ("husk-pause:test").
 */
export function buildImage(dir: string, name: string, makeRootfs: (rootfs: string) => void, imageConfig: ImageConfig): LocalImage {
  mkdirSync(dir, { recursive: true });
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  makeRootfs(rootfs);
  const layout = join(dir, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });

  const layerTmp = join(dir, 'layer.tar');
  tarOf(rootfs, layerTmp);
  const layer = readFileSync(layerTmp);
  rmSync(layerTmp);
  const layerDigest = sha256(layer);
  writeFileSync(join(blobs, layerDigest), layer);

  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: imageConfig,
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: `husk tests: ${name}` }],
  });
  const configDigest = sha256(config);
  writeFileSync(join(blobs, configDigest), config);

  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configDigest}`, size: Buffer.byteLength(config) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layer.length }],
  });
  const manifestDigest = sha256(manifest);
  writeFileSync(join(blobs, manifestDigest), manifest);

  const [repo, tag = 'latest'] = name.split(':') as [string, string?];
  const qualifiedName = `docker.io/library/${repo}:${tag}`;
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${manifestDigest}`,
        size: Buffer.byteLength(manifest),
        annotations: { 'io.containerd.image.name': qualifiedName, 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
  const ociArchive = join(dir, 'image-oci.tar');
  tarOf(layout, ociArchive);

  // docker-archive: the same blobs, named by manifest.json instead of index.json.
  rmSync(join(layout, 'index.json'));
  rmSync(join(layout, 'oci-layout'));
  rmSync(join(blobs, manifestDigest));
  writeFileSync(
    join(layout, 'manifest.json'),
    JSON.stringify([{ Config: `blobs/sha256/${configDigest}`, RepoTags: [`${repo}:${tag}`], Layers: [`blobs/sha256/${layerDigest}`] }]),
  );
  const dockerArchive = join(dir, 'image-docker.tar');
  tarOf(layout, dockerArchive);
  rmSync(layout, { recursive: true });

  return { name: `${repo}:${tag}`, qualifiedName, rootfs, ociArchive, dockerArchive };
}
