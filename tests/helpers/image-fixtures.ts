/**
 * Images for the image tests, made here: built by podman from busybox-static
 * (a private --root/--runroot, `--isolation chroot`, saved in every archive
 * kind), or crafted layer by layer as an OCI layout (whiteouts, opaque
 * directories, hostile entries, many layers), as an attacker would write one.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';

export interface PodmanImage {
  name: string;
  /** The config digest podman gives the image (its id). */
  id: string;
  dockerArchive: string;
  ociArchive: string;
  ociDir: string;
}

/** A podman with its own storage under `dir` (vfs: no overlay mounts of its own). */
export function podman(dir: string): (args: string[]) => string {
  return (args) =>
    execFileSync('podman', ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--storage-driver', 'vfs', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 180_000,
    });
}

/** Builds `containerfile` (busybox-static copied into its context as ./busybox) and saves it three ways. */
export function podmanBuild(dir: string, name: string, containerfile: string): PodmanImage {
  const context = join(dir, `ctx-${name.replace(/\W/g, '_')}`);
  mkdirSync(context, { recursive: true });
  copyFileSync('/bin/busybox', join(context, 'busybox'));
  writeFileSync(join(context, 'Containerfile'), containerfile);
  const p = podman(dir);
  p(['build', '--isolation', 'chroot', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '-t', name, context]);
  const id = `sha256:${p(['image', 'inspect', '--format', '{{.Id}}', name]).trim()}`;
  const base = join(dir, name.replace(/\W/g, '_'));
  p(['save', '--format', 'docker-archive', '-o', `${base}.docker.tar`, name]);
  p(['save', '--format', 'oci-archive', '-o', `${base}.oci.tar`, name]);
  p(['save', '--format', 'oci-dir', '-o', `${base}.oci`, name]);
  return { name, id, dockerArchive: `${base}.docker.tar`, ociArchive: `${base}.oci.tar`, ociDir: `${base}.oci` };
}

/** The base image of the tests: busybox, a passwd with a user, a config to check. */
export const baseContainerfile = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p /etc /tmp /data /home/app /work /var/old && chmod 1777 /tmp && \\
    echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'app:x:1000:1000:app:/home/app:/bin/sh' >> /etc/passwd && \\
    echo 'root:x:0:' > /etc/group && echo 'app:x:1000:' >> /etc/group && echo 'staff:x:50:app' >> /etc/group && \\
    chown 1000:1000 /home/app && touch /var/old/file
RUN rm -rf /var/old
ENV GREETING=hello PATH=/bin
WORKDIR /work
USER app
VOLUME /data
LABEL org.example.demo=yes
STOPSIGNAL SIGINT
ENTRYPOINT ["/bin/echo", "entry"]
CMD ["default-cmd"]
`;

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** One tar entry of a crafted layer. */
export interface CraftedEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  data?: Buffer | string;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export function tarOf(entries: CraftedEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  for (const e of entries) {
    const data = e.data !== undefined ? Buffer.from(e.data) : (e.type ?? 'file') === 'file' ? Buffer.alloc(0) : undefined;
    const header: tar.Header = {
      name: e.name,
      type: e.type ?? 'file',
      mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: new Date(1_600_000_000_000),
      ...(e.linkname !== undefined && { linkname: e.linkname }),
      ...(e.devmajor !== undefined && { devmajor: e.devmajor, devminor: e.devminor ?? 0 }),
      ...(e.pax !== undefined && { pax: e.pax }),
      ...(data !== undefined && { size: data.length }),
    } as tar.Header;
    if (data !== undefined) pack.entry(header, data);
    else pack.entry(header);
  }
  pack.finalize();
  return done;
}

/** A layer with busybox and sh, for crafted images that must run. */
export function busyboxEntries(): CraftedEntry[] {
  return [
    // The mount points of runc's default mounts, as real images have them (so they are not made in a container's layer).
    ...['dev/', 'proc/', 'sys/'].map((name): CraftedEntry => ({ name, type: 'directory' })),
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', data: readFileSync('/bin/busybox'), mode: 0o755 },
    ...['sh', 'ls', 'cat', 'echo', 'test', 'stat', 'touch', 'find'].map((a): CraftedEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
  ];
}

/**
 * Writes an OCI layout whose layers are these tars (gzip, zstd-less; `compress`
 * picks per layer) and whose config runs `cmd`. Returns the layout dir and the image id.
 */
export async function craftLayout(
  dir: string,
  layers: CraftedEntry[][],
  options: { cmd?: string[]; name?: string; compress?: (i: number) => 'gzip' | 'zstd' | 'none'; platformIndex?: boolean } = {},
): Promise<{ dir: string; id: string; diffIds: string[] }> {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (data: Buffer | string): string => {
    const digest = sha256(data);
    writeFileSync(join(blobs, digest), data);
    return `sha256:${digest}`;
  };
  const diffIds: string[] = [];
  const descriptors: { mediaType: string; digest: string; size: number }[] = [];
  for (const [i, entries] of layers.entries()) {
    const raw = await tarOf(entries);
    diffIds.push(`sha256:${sha256(raw)}`);
    const compression = options.compress?.(i) ?? 'gzip';
    const blob = compression === 'gzip' ? gzipSync(raw) : compression === 'zstd' ? execFileSync('zstd', ['-q', '-c'], { input: raw }) : raw;
    descriptors.push({ mediaType: `application/vnd.oci.image.layer.v1.tar${compression === 'none' ? '' : `+${compression}`}`, digest: put(blob), size: blob.length });
  }
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '2020-09-13T12:26:40Z',
    config: { Env: ['PATH=/bin'], Cmd: options.cmd ?? ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
  });
  const configDigest = put(config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: Buffer.byteLength(config) },
    layers: descriptors,
  });
  let manifestDigest = put(manifest);
  let manifestSize = Buffer.byteLength(manifest);
  let manifestType = 'application/vnd.oci.image.manifest.v1+json';
  if (options.platformIndex) {
    // This host's image next to an arm64 one (same layers, its own config) that must not be chosen.
    const otherConfig = config.replace('"architecture":"amd64"', '"architecture":"arm64"');
    const otherConfigDigest = put(otherConfig);
    const other = JSON.stringify({ schemaVersion: 2, mediaType: manifestType, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: otherConfigDigest, size: Buffer.byteLength(otherConfig) }, layers: descriptors });
    const otherDigest = put(other);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: manifestType, digest: otherDigest, size: Buffer.byteLength(other), platform: { os: 'linux', architecture: 'arm64' } },
        { mediaType: manifestType, digest: manifestDigest, size: manifestSize, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    });
    manifestDigest = put(index);
    manifestSize = Buffer.byteLength(index);
    manifestType = 'application/vnd.oci.image.index.v1+json';
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: manifestType,
          digest: manifestDigest,
          size: manifestSize,
          ...(options.name !== undefined && { annotations: { 'org.opencontainers.image.ref.name': options.name } }),
        },
      ],
    }),
  );
  return { dir, id: configDigest, diffIds };
}

/**
 * The rootless tests' image (rootless-demo:latest, two layers): busybox, owners 0 and 1000,
 * a whiteout (etc/gone) and an opaque directory (opq/), as an attacker or a build would write
 * them. `extraBase` adds entries to the bottom layer.
 */
export function craftOwnersWhiteoutsLayout(dir: string, extraBase: CraftedEntry[] = []): Promise<{ dir: string; id: string; diffIds: string[] }> {
  return craftLayout(
    dir,
    [
      [
        ...busyboxEntries(),
        ...extraBase,
        { name: 'etc/', type: 'directory' },
        { name: 'etc/gone', data: 'deleted by the next layer' },
        { name: 'home/', type: 'directory' },
        { name: 'home/app/', type: 'directory', uid: 1000, gid: 1000, mode: 0o755 },
        { name: 'home/app/owned', data: 'app', uid: 1000, gid: 1000 },
        { name: 'opq/', type: 'directory' },
        { name: 'opq/old', data: 'hidden by the opaque directory above' },
        { name: 'tmp/', type: 'directory', mode: 0o1777 },
      ],
      [
        { name: 'etc/', type: 'directory' },
        { name: 'etc/.wh.gone' },
        { name: 'opq/', type: 'directory' },
        { name: 'opq/.wh..wh..opq' },
        { name: 'opq/new', data: 'new', uid: 1000, gid: 50 },
      ],
    ],
    { name: 'rootless-demo:latest', cmd: ['/bin/sh'] },
  );
}
