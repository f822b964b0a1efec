/**
 * `husk image import`: a docker-archive (`docker save`, `podman save`), an
 * oci-archive, or an OCI image layout directory, into the store. Archives are
 * read as streams and never extracted: a first pass keeps the small JSON
 * files (index, manifests, configs), a second streams each layer entry
 * straight into the store's unpacker. Every layer's diffID (and, for OCI, its
 * blob digest) is checked against the config before the layer is kept.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { AutoDecompress } from './decompress.js';
import { chainIds, checkDigest, hexOf, sha256, verifyDigest } from './digest.js';
import { ImageError } from './errors.js';
import { type Manifest, parseManifest, selectPlatform } from './manifest.js';
import { normalizeName } from './reference.js';
import { type ImageConfig, type ImageRecord, type ImageStore } from './store.js';

export interface ImportOptions {
  /** The name to give the image (NAME[:TAG]); default: the names the archive carries. */
  name?: string;
  /** Told each layer as it is done. */
  onLayer?: (diffId: string, status: 'unpacked' | 'present') => void;
}

/** Small files are kept in memory in the first pass (manifests, configs, index). */
const SMALL = 4 << 20;

/** Where an archive's files come from: a directory, or a tar read in passes. */
interface Source {
  read(name: string): Buffer;
  has(name: string): boolean;
  /** Streams each of `names` to `use`, in whatever order they come. */
  stream(names: Set<string>, use: (name: string, data: Readable) => Promise<void>): Promise<void>;
}

function blobName(digest: string): string {
  return `blobs/sha256/${hexOf(checkDigest(digest, 'blob'))}`;
}

function dirSource(dir: string): Source {
  const path = (name: string): string => {
    const clean = posix.normalize(name);
    if (clean.startsWith('..') || posix.isAbsolute(clean)) throw new ImageError(`${dir}: ${name} is outside the layout`, 'EINVAL');
    return join(dir, clean);
  };
  return {
    read(name) {
      try {
        return readFileSync(path(name));
      } catch (error) {
        throw new ImageError(`${dir}: ${name}: missing`, 'EINVAL', { path: path(name), cause: error });
      }
    },
    has(name) {
      try {
        return statSync(path(name)).isFile();
      } catch {
        return false;
      }
    },
    async stream(names, use) {
      for (const name of names) await use(name, createReadStream(path(name)));
    },
  };
}

async function tarSource(file: string): Promise<Source> {
  const small = new Map<string, Buffer>();
  const links = new Map<string, string>();
  const files = new Set<string>();
  const clean = (name: string): string => posix.normalize(name.replace(/^\/+/, '')).replace(/^\.\//, '');
  const walk = async (each: (name: string, entry: Readable & { header: tar.Header }) => Promise<void>): Promise<void> => {
    const extract = tar.extract();
    const consume = (async () => {
      for await (const entry of extract) await each(clean(entry.header.name), entry as unknown as Readable & { header: tar.Header });
    })();
    await Promise.all([pipeline(createReadStream(file), new AutoDecompress(), extract), consume.catch((e: unknown) => {
      extract.destroy(e as Error);
      throw e;
    })]);
  };
  await walk(async (name, entry) => {
    const { header } = entry;
    if (header.type === 'symlink') links.set(name, posix.normalize(posix.join(posix.dirname(name), header.linkname)));
    if (header.type === 'file' || header.type === 'contiguous-file') {
      files.add(name);
      if (header.size <= SMALL) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        small.set(name, Buffer.concat(chunks));
        return;
      }
    }
    entry.resume();
  });
  const resolve = (name: string): string => {
    let n = clean(name);
    for (let hops = 0; hops < 16 && links.has(n); hops++) n = links.get(n)!;
    return n;
  };
  return {
    read(name) {
      const data = small.get(resolve(name));
      if (data === undefined) throw new ImageError(`${file}: ${name}: missing (or too large for metadata)`, 'EINVAL', { path: file });
      return data;
    },
    has(name) {
      return files.has(resolve(name));
    },
    async stream(names, use) {
      const wanted = new Map<string, string[]>(); // real entry -> the names asking for it
      for (const name of names) wanted.set(resolve(name), [...(wanted.get(resolve(name)) ?? []), name]);
      // One pass serves every name of an entry only once; symlinked duplicates need another.
      while (wanted.size > 0) {
        const pass = new Map([...wanted].map(([real, asked]) => [real, asked.shift()!]));
        for (const [real, asked] of wanted) if (asked.length === 0) wanted.delete(real);
        await walk(async (name, entry) => {
          const asked = pass.get(name);
          if (asked === undefined) return void entry.resume();
          pass.delete(name);
          await use(asked, entry);
        });
        if (pass.size > 0) throw new ImageError(`${file}: ${[...pass.keys()].join(', ')}: missing from the archive`, 'EINVAL', { path: file });
      }
    },
  };
}

interface Planned {
  config: Buffer;
  configDigest: string;
  manifestDigest?: string;
  /** Archive file name of each layer, bottom first, with its blob digest if the format says one. */
  layers: { name: string; digest?: string }[];
  names: string[];
}

function plannedFromOci(source: Source, what: string): Planned[] {
  const index = parseManifest(source.read('index.json'), `${what}: index.json`);
  if (index.kind !== 'index') throw new ImageError(`${what}: index.json is not an index`, 'EINVAL');
  const planned: Planned[] = [];
  for (const descriptor of index.index.manifests) {
    const refName = descriptor.annotations?.['io.containerd.image.name'] ?? descriptor.annotations?.['org.opencontainers.image.ref.name'];
    let digest = descriptor.digest;
    let data = source.read(blobName(digest));
    verifyDigest(digest, sha256(data), `${what}: manifest`);
    let parsed = parseManifest(data, `${what}: manifest ${digest}`, descriptor.mediaType);
    if (parsed.kind === 'index') {
      digest = selectPlatform(parsed.index, `${what}: index ${digest}`).digest;
      data = source.read(blobName(digest));
      verifyDigest(digest, sha256(data), `${what}: manifest`);
      parsed = parseManifest(data, `${what}: manifest ${digest}`);
      if (parsed.kind !== 'manifest') throw new ImageError(`${what}: nested indexes are not supported`, 'EINVAL');
    }
    const manifest: Manifest = parsed.manifest;
    const config = source.read(blobName(manifest.config.digest));
    verifyDigest(manifest.config.digest, sha256(config), `${what}: config`);
    const names: string[] = [];
    if (refName !== undefined) {
      // A bare tag ("latest") names nothing by itself.
      try {
        if (refName.includes('/') || !/^[\w][\w.-]*$/.test(refName)) names.push(normalizeName(refName));
      } catch {
        // an annotation that is not a reference: no name
      }
    }
    planned.push({ config, configDigest: manifest.config.digest, manifestDigest: digest, layers: manifest.layers.map((l) => ({ name: blobName(l.digest), digest: l.digest })), names });
  }
  return planned;
}

function plannedFromDocker(source: Source, what: string): Planned[] {
  let entries: { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
  try {
    entries = JSON.parse(source.read('manifest.json').toString('utf8')) as typeof entries;
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw new ImageError(`${what}: manifest.json is not JSON`, 'EINVAL', { cause: error });
  }
  if (!Array.isArray(entries)) throw new ImageError(`${what}: manifest.json is not a list`, 'EINVAL');
  return entries.map((entry) => {
    const config = source.read(entry.Config);
    const names = (entry.RepoTags ?? []).flatMap((t) => {
      try {
        return [normalizeName(t)];
      } catch {
        return [];
      }
    });
    return { config, configDigest: sha256(config), layers: entry.Layers.map((name) => ({ name })), names };
  });
}

/** Imports every image of the archive or layout; returns their records. */
export async function importArchive(store: ImageStore, path: string, options: ImportOptions = {}): Promise<ImageRecord[]> {
  let source: Source;
  try {
    source = statSync(path).isDirectory() ? dirSource(path) : await tarSource(path);
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw new ImageError(`${path}: cannot read: ${(error as Error).message}`, 'EINVAL', { path, cause: error });
  }
  let planned: Planned[];
  if (source.has('index.json')) planned = plannedFromOci(source, path);
  else if (source.has('manifest.json')) planned = plannedFromDocker(source, path);
  else throw new ImageError(`${path}: neither an OCI layout (index.json) nor a docker-archive (manifest.json)`, 'EINVAL', { path });
  if (planned.length === 0) throw new ImageError(`${path}: holds no image`, 'EINVAL', { path });
  if (options.name !== undefined && planned.length > 1) throw new ImageError(`${path}: holds ${planned.length} images: --name needs exactly one`, 'EINVAL', { path });

  const records: ImageRecord[] = [];
  for (const image of planned) {
    const config = JSON.parse(image.config.toString('utf8')) as ImageConfig;
    const diffIds = config.rootfs?.diff_ids ?? [];
    for (const d of diffIds) checkDigest(d, `${path}: config diff_id`);
    if (diffIds.length !== image.layers.length) {
      throw new ImageError(`${path}: the config lists ${diffIds.length} layers, the manifest ${image.layers.length}`, 'EINVAL', { path });
    }
    const chains = chainIds(diffIds);
    const byName = new Map<string, number[]>();
    image.layers.forEach((layer, i) => {
      if (store.hasLayer(chains[i]!)) options.onLayer?.(diffIds[i]!, 'present');
      else byName.set(layer.name, [...(byName.get(layer.name) ?? []), i]);
    });
    // A name asked twice (one blob at two positions) is streamed twice.
    const names = new Set<string>();
    const queue = new Map<string, number[]>();
    for (const [name, positions] of byName) {
      queue.set(name, [...positions]);
      names.add(name);
    }
    const streamAll = async (): Promise<void> => {
      await source.stream(names, async (name, data) => {
        const i = queue.get(name)!.shift()!;
        await store.addLayer(chains[i]!, { diffId: diffIds[i]!, ...(image.layers[i]!.digest !== undefined && { digest: image.layers[i]!.digest }) }, () => data);
        options.onLayer?.(diffIds[i]!, 'unpacked');
      });
    };
    while ([...queue.values()].some((q) => q.length > 0)) {
      for (const [name, q] of queue) if (q.length === 0) names.delete(name);
      await streamAll();
    }
    store.putBlob(image.configDigest, image.config);
    const size = chains.reduce((sum, c) => sum + store.layer(c).size, 0);
    records.push(
      store.saveImage({
        id: image.configDigest,
        names: options.name !== undefined ? [normalizeName(options.name)] : image.names,
        ...(image.manifestDigest !== undefined && { digest: image.manifestDigest }),
        layers: diffIds,
        size,
        ...(config.created !== undefined && { created: config.created }),
      }),
    );
  }
  return records;
}
