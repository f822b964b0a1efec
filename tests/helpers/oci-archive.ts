/**
 * A tiny OCI image as an oci-archive (an image layout in a tar), made from files on this host,
 * for engines that import images (`ctr images import`, `podman load`): no registry needed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';

export interface OciImageSpec {
  /** Full name, e.g. "localhost/husk-pause:test". */
  name: string;
  /** Path in the image -> host file copied there (mode kept), or { link } for a symlink. */
  files: Record<string, string | { link: string }>;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Writes the archive to `out`. */
export function writeOciArchive(spec: OciImageSpec, out: string): void {
  const work = mkdtempSync(join(tmpdir(), 'husk-oci-'));
  try {
    const rootfs = join(work, 'rootfs');
    for (const [path, from] of Object.entries(spec.files)) {
      const target = join(rootfs, path);
      mkdirSync(dirname(target), { recursive: true });
      if (typeof from === 'string') copyFileSync(from, target);
      else symlinkSync(from.link, target);
    }
    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const layerFile = join(work, 'layer.tar');
    execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', layerFile, '.']);
    const layer = readFileSync(layerFile);
    const layerDigest = sha256(layer);
    writeFileSync(join(blobs, layerDigest), layer);
    const blob = (content: object) => {
      const text = JSON.stringify(content);
      const digest = sha256(text);
      writeFileSync(join(blobs, digest), text);
      return { digest: `sha256:${digest}`, size: Buffer.byteLength(text) };
    };
    const config = blob({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: spec.env ?? ['PATH=/bin:/usr/bin'], ...(spec.entrypoint && { Entrypoint: spec.entrypoint }), ...(spec.cmd && { Cmd: spec.cmd }) },
      rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    });
    const manifest = blob({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layer.length }],
    });
    const tag = spec.name.slice(spec.name.lastIndexOf(':') + 1);
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...manifest,
            annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': tag },
          },
        ],
      }),
    );
    execFileSync('tar', ['--numeric-owner', '-C', layout, '-cf', out, '.']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** busybox-static with the applets the tests use linked to it. */
export function busyboxFiles(applets: string[] = ['sh', 'sleep', 'cat', 'echo', 'ls', 'readlink', 'id', 'hostname', 'true', 'false', 'ps']): OciImageSpec['files'] {
  const files: OciImageSpec['files'] = { '/bin/busybox': '/bin/busybox' };
  for (const a of applets) files[`/bin/${a}`] = { link: 'busybox' };
  return files;
}
