/**
 * The image store (`--store DIR`, HUSK_STORE, default /var/lib/husk), daemonless
 * in the way of containers/storage: any number of husk processes share it.
 *
 *   blobs/sha256/<hex>          configs and manifests, content-addressed
 *   layers/<chain hex>/diff/    one unpacked layer, shared by every image using it
 *   layers/<chain hex>/layer.json
 *   images/<config hex>.json    an image: its names, diffIDs, size
 *   containers/<key>/           a container's upper/, work/, merged/ (+ owner.json)
 *   tmp/<pid>.<random>          work in progress (unpacks, downloads)
 *   lock                        flock: image records, layer removal, containers
 *   overlay-xattrs              "trusted" or "user": how layers mark opaque directories
 *
 * Rootless (src/sys/rootless.ts), the store is the user's ($XDG_DATA_HOME/husk)
 * and layers are unpacked and removed inside the user's own user namespace
 * (src/image/userns.ts), so their owners are ids of its subordinate range, and
 * they use user.overlay.* xattrs for an overlay mounted with `userxattr`.
 *
 * A layer is unpacked into tmp/ and renamed into layers/ only once complete
 * and verified, so a crash mid-unpack leaves at most a tmp/ entry (removed by
 * the next husk once its pid is gone), never a half layer under its chain ID.
 * Of two processes unpacking one layer, the first rename wins and the other
 * drops its copy.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { constants, native } from '../native/index.js';
import { chainIds, hexOf, sha256, verifyDigest } from './digest.js';
import { errnoCode } from '../errors.js';
import { ImageError } from './errors.js';
import { normalizeName } from './reference.js';
import { defaultStoreRoot, isRootless, isUnprivilegedUser } from '../sys/rootless.js';
import { type OverlayXattrs, type UnpackResult, unpackLayer } from './unpack.js';
import { removeInUserNamespace, unpackInUserNamespace } from './userns.js';

/** The host's root's store. */
export const DEFAULT_STORE = '/var/lib/husk';

/** --store, else HUSK_STORE, else /var/lib/husk (rootless: $XDG_DATA_HOME/husk, ~/.local/share/husk). */
export function storeDir(flag?: string): string {
  return flag ?? process.env['HUSK_STORE'] ?? defaultStoreRoot();
}

/** What `husk images --format json` prints for one image. */
export interface ImageRecord {
  /** The config's digest. */
  id: string;
  /** Normalized references ("docker.io/library/busybox:latest"). */
  names: string[];
  /** The manifest's digest, when the image came with one. */
  digest?: string;
  /** diffIDs, bottom layer first. */
  layers: string[];
  /** Bytes of the uncompressed layers. */
  size: number;
  /** The config's `created`. */
  created?: string;
}

export interface LayerRecord {
  chainId: string;
  diffId: string;
  size: number;
}

/** A container's own layer: overlay's upperdir and workdir, and where the merged view is mounted. */
export interface ContainerLayer {
  dir: string;
  upper: string;
  work: string;
  merged: string;
  /** The image's layer directories, top first (overlay's lowerdir order). */
  lowers: string[];
}

/** Which overlay xattrs the store's layers use (ImageStore.overlayXattrs). */
const XATTRS_FILE = 'overlay-xattrs';

interface Owner {
  root: string;
  id: string;
  image: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

export class ImageStore {
  /** Without the host's root (src/sys/rootless.ts): layers use user.overlay.* xattrs, overlays userxattr. */
  readonly rootless: boolean;
  /**
   * An unprivileged user (euid != 0): layers are unpacked and removed inside the user's own
   * user namespace (src/image/userns.ts), so their owners are ids of its subordinate range.
   * Uid 0 of a user namespace (`podman unshare`) owns its ids already and writes them itself.
   */
  readonly unprivileged: boolean;

  constructor(readonly root: string) {
    this.rootless = isRootless();
    this.unprivileged = isUnprivilegedUser();
  }

  private path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** Makes the store's directories (0700: layers hold setuid files and private data). */
  init(): void {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    for (const dir of ['blobs/sha256', 'layers', 'images', 'containers', 'tmp']) mkdirSync(this.path(dir), { recursive: true, mode: 0o700 });
    if (!existsSync(this.path(XATTRS_FILE)) && readdirSync(this.path('layers')).length === 0) {
      // In one rename: another husk making the same store at once reads it meanwhile.
      const temp = this.path('tmp', `${process.pid}.${randomBytes(6).toString('hex')}.${XATTRS_FILE}`); // named as tempDir's: live while we are
      writeFileSync(temp, `${this.rootless ? 'user' : 'trusted'}\n`, { mode: 0o600 });
      renameSync(temp, this.path(XATTRS_FILE));
    }
    this.readOverlayXattrs(); // a store of the other kind is refused before anything changes in it
  }

  /**
   * The xattrs this store's layers mark opaque directories with, and its overlays are
   * mounted for (`userxattr` for user): chosen when the store is made, user when rootless
   * (trusted.* needs the host's CAP_SYS_ADMIN); a store made before this was recorded is
   * root's (trusted).
   */
  overlayXattrs(): OverlayXattrs {
    this.init();
    return this.readOverlayXattrs();
  }

  private readOverlayXattrs(): OverlayXattrs {
    let text: string;
    try {
      text = readFileSync(this.path(XATTRS_FILE), 'utf8').trim();
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      text = 'trusted';
    }
    if (text !== 'trusted' && text !== 'user') throw new ImageError(`${this.path(XATTRS_FILE)}: unknown overlay xattrs ${JSON.stringify(text)}`, 'EINVAL');
    if (text === 'trusted' && this.rootless) {
      throw new ImageError(`the store ${this.root} was made by the host's root (its layers use trusted.* xattrs): rootless husk needs a store of its own (--store, HUSK_STORE; default ${defaultStoreRoot()})`, 'EINVAL');
    }
    return text;
  }

  /** Removes trees the store made; rootless, from inside the user namespace that owns their files. */
  removeTrees(paths: string[]): void {
    const present = paths.filter((p) => existsSync(p));
    if (present.length === 0) return;
    if (this.unprivileged) removeInUserNamespace(present);
    else for (const p of present) rmSync(p, { recursive: true, force: true });
  }

  /** Runs fn holding the store's lock (flock: released if this process dies). */
  withLock<T>(fn: () => T): T {
    this.init();
    const fd = openSync(this.path('lock'), 'a', 0o600);
    try {
      native.flock(fd, constants.LOCK_EX);
      return fn();
    } finally {
      closeSync(fd);
    }
  }

  /** A fresh directory under tmp/, named after this process so others can tell it is live. */
  tempDir(): string {
    this.init();
    this.removeStaleTemp();
    const dir = this.path('tmp', `${process.pid}.${randomBytes(6).toString('hex')}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  /** What crashed processes left in tmp/. */
  private removeStaleTemp(): void {
    const stale: string[] = [];
    for (const entry of readdirSync(this.path('tmp'))) {
      const pid = Number(entry.split('.')[0]);
      if (Number.isInteger(pid) && pid > 0 && (pid === process.pid || processAlive(pid))) continue;
      stale.push(this.path('tmp', entry));
    }
    this.removeTrees(stale);
  }

  // --- blobs --------------------------------------------------------------

  blobPath(digest: string): string {
    return this.path('blobs', 'sha256', hexOf(digest));
  }

  /** Stores a (small) blob after checking its digest. */
  putBlob(digest: string, data: Buffer): void {
    verifyDigest(digest, sha256(data), 'blob');
    const path = this.blobPath(digest);
    if (existsSync(path)) return;
    const temp = join(this.tempDir(), 'blob');
    writeFileSync(temp, data, { mode: 0o600 });
    renameSync(temp, path);
    rmSync(join(temp, '..'), { recursive: true, force: true });
  }

  readBlob(digest: string): Buffer {
    try {
      return readFileSync(this.blobPath(digest));
    } catch (error) {
      throw new ImageError(`blob ${digest} is not in the store ${this.root}`, 'ENOTFOUND', { digest, cause: error });
    }
  }

  // --- layers -------------------------------------------------------------

  layerDir(chainId: string): string {
    return this.path('layers', hexOf(chainId), 'diff');
  }

  hasLayer(chainId: string): boolean {
    return existsSync(this.path('layers', hexOf(chainId), 'layer.json'));
  }

  layer(chainId: string): LayerRecord {
    return JSON.parse(readFileSync(this.path('layers', hexOf(chainId), 'layer.json'), 'utf8')) as LayerRecord;
  }

  /**
   * Unpacks a layer blob under its chain ID, unless it is there already.
   * `expect.diffId` (from the image config) and `expect.digest` (the blob's,
   * from a manifest) are checked before the layer is renamed into place; a
   * mismatch or a refused entry removes everything unpacked.
   */
  async addLayer(chainId: string, expect: { diffId: string; digest?: string }, source: () => Readable): Promise<{ added: boolean; result?: UnpackResult }> {
    if (this.hasLayer(chainId)) return { added: false };
    const xattrs = this.overlayXattrs();
    const temp = this.tempDir();
    try {
      mkdirSync(join(temp, 'diff'), { mode: 0o755 });
      const result = this.unprivileged
        ? await unpackInUserNamespace(source(), join(temp, 'diff'), xattrs)
        : await unpackLayer(source(), join(temp, 'diff'), { overlayXattrs: xattrs });
      if (expect.digest !== undefined) verifyDigest(expect.digest, result.digest, `layer blob ${expect.digest}`);
      verifyDigest(expect.diffId, result.diffId, `layer ${expect.digest ?? expect.diffId} (uncompressed)`);
      const record: LayerRecord = { chainId, diffId: result.diffId, size: result.size };
      writeFileSync(join(temp, 'layer.json'), JSON.stringify(record));
      try {
        renameSync(temp, this.path('layers', hexOf(chainId)));
      } catch (error) {
        // Another husk got there first: its copy is the same bytes.
        if (errnoCode(error) === 'ENOTEMPTY' || errnoCode(error) === 'EEXIST') return { added: false, result };
        throw error;
      }
      return { added: true, result };
    } finally {
      this.removeTrees([temp]);
    }
  }

  // --- images -------------------------------------------------------------

  private imagePath(id: string): string {
    return this.path('images', `${hexOf(id)}.json`);
  }

  listImages(): ImageRecord[] {
    let entries: string[];
    try {
      entries = readdirSync(this.path('images'));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw error;
    }
    const images: ImageRecord[] = [];
    for (const entry of entries.filter((e) => e.endsWith('.json')).sort()) {
      try {
        images.push(JSON.parse(readFileSync(this.path('images', entry), 'utf8')) as ImageRecord);
      } catch {
        // removed meanwhile
      }
    }
    return images;
  }

  /** An image by name (normalized), by id, or by a unique id prefix (12 digits or more). */
  findImage(ref: string): ImageRecord | undefined {
    const images = this.listImages();
    const hex = ref.startsWith('sha256:') ? ref.slice(7) : ref;
    if (/^[0-9a-f]{12,64}$/.test(hex)) {
      const matches = images.filter((i) => hexOf(i.id).startsWith(hex));
      if (matches.length === 1) return matches[0];
      if (matches.length > 1) throw new ImageError(`image id prefix ${ref} is ambiguous`, 'EINVAL');
    }
    let name: string;
    try {
      name = normalizeName(ref);
    } catch {
      return undefined;
    }
    return images.find((i) => i.names.includes(name));
  }

  getImage(ref: string): ImageRecord {
    const image = this.findImage(ref);
    if (image === undefined) throw new ImageError(`image ${JSON.stringify(ref)} is not in the store ${this.root} (husk pull or husk image import it)`, 'ENOTFOUND');
    return image;
  }

  /** The image's config (the JSON of image-spec config.md). */
  imageConfig(image: ImageRecord): ImageConfig {
    return JSON.parse(this.readBlob(image.id).toString('utf8')) as ImageConfig;
  }

  /**
   * Records an image whose config blob and layers are in the store. A name
   * moves to this image from any image that had it (as a tag does).
   */
  saveImage(image: ImageRecord): ImageRecord {
    return this.withLock(() => {
      for (const chainId of chainIds(image.layers)) {
        if (!this.hasLayer(chainId)) throw new ImageError(`layer ${chainId} vanished from the store while the image was being saved (removed meanwhile): try again`, 'ENOTFOUND');
      }
      const existing = existsSync(this.imagePath(image.id)) ? (JSON.parse(readFileSync(this.imagePath(image.id), 'utf8')) as ImageRecord) : undefined;
      const names = [...new Set([...(existing?.names ?? []), ...image.names])];
      for (const other of this.listImages()) {
        if (other.id === image.id) continue;
        const kept = other.names.filter((n) => !names.includes(n));
        if (kept.length !== other.names.length) this.writeImage({ ...other, names: kept });
      }
      const record: ImageRecord = { ...image, names, ...(image.digest === undefined && existing?.digest !== undefined && { digest: existing.digest }) };
      this.writeImage(record);
      return record;
    });
  }

  private writeImage(image: ImageRecord): void {
    const temp = join(this.tempDir(), 'image.json');
    writeFileSync(temp, JSON.stringify(image, null, 2));
    renameSync(temp, this.imagePath(image.id));
    rmSync(join(temp, '..'), { recursive: true, force: true });
  }

  /**
   * Removes an image (by name: only that name, unless it is the last; by id:
   * the image), refused while a container uses it, then every layer no other
   * image uses. Returns what went.
   */
  removeImage(ref: string, force = false): { untagged: string[]; deleted?: string; layers: string[] } {
    return this.withLock(() => {
      const image = this.getImage(ref);
      let name: string | undefined;
      try {
        name = normalizeName(ref);
      } catch {
        name = undefined;
      }
      if (name !== undefined && image.names.includes(name) && image.names.length > 1 && !force) {
        this.writeImage({ ...image, names: image.names.filter((n) => n !== name) });
        return { untagged: [name], layers: [] };
      }
      const users = this.containersUsing(image.id);
      if (users.length > 0) {
        throw new ImageError(`image ${ref} is in use by container${users.length > 1 ? 's' : ''} ${users.map((u) => u.id).join(', ')}: delete ${users.length > 1 ? 'them' : 'it'} first`, 'EINUSE');
      }
      rmSync(this.imagePath(image.id), { force: true });
      const others = this.listImages();
      const stillUsed = new Set(others.flatMap((i) => chainIds(i.layers)));
      const removed: string[] = [];
      for (const chainId of chainIds(image.layers)) {
        if (stillUsed.has(chainId) || !existsSync(this.path('layers', hexOf(chainId)))) continue;
        // Out of layers/ in one rename, then removed at leisure.
        const doomed = join(this.tempDir(), 'layer');
        renameSync(this.path('layers', hexOf(chainId)), doomed);
        this.removeTrees([join(doomed, '..')]);
        removed.push(chainId);
      }
      if (!others.some((i) => i.id === image.id)) rmSync(this.blobPath(image.id), { force: true });
      if (image.digest !== undefined && !others.some((i) => i.digest === image.digest)) rmSync(this.blobPath(image.digest), { force: true });
      return { untagged: image.names, deleted: image.id, layers: removed };
    });
  }

  // --- containers ---------------------------------------------------------

  /** The containers (of any state root) whose layer sits on this image; stale records are dropped. */
  private containersUsing(imageId: string): Owner[] {
    const users: Owner[] = [];
    for (const key of readdirSync(this.path('containers'))) {
      let owner: Owner;
      try {
        owner = JSON.parse(readFileSync(this.path('containers', key, 'owner.json'), 'utf8')) as Owner;
      } catch {
        continue;
      }
      if (owner.image !== imageId) continue;
      // A container whose state is gone (husk killed mid-create) holds nothing.
      if (!existsSync(join(owner.root, owner.id))) {
        this.removeContainerLayer(this.path('containers', key));
        continue;
      }
      users.push(owner);
    }
    return users;
  }

  /** Where a container's layer lives: one directory per (state root, id). */
  containerLayerDir(stateRoot: string, id: string): string {
    const key = createHash('sha256').update(`${stateRoot}\0${id}`).digest('hex').slice(0, 32);
    return this.path('containers', key);
  }

  /** Makes a container's upper/work/merged directories on an image, under the lock (so rmi sees it). */
  createContainerLayer(stateRoot: string, id: string, image: ImageRecord): ContainerLayer {
    return this.withLock(() => {
      if (!existsSync(this.imagePath(image.id))) throw new ImageError(`image ${image.id} was removed meanwhile`, 'ENOTFOUND');
      const dir = this.containerLayerDir(stateRoot, id);
      if (existsSync(dir)) this.removeContainerLayer(dir); // left by a crashed create of the same id
      mkdirSync(dir, { mode: 0o700 });
      const layer: ContainerLayer = {
        dir,
        upper: join(dir, 'upper'),
        work: join(dir, 'work'),
        merged: join(dir, 'merged'),
        lowers: chainIds(image.layers).map((c) => this.layerDir(c)).reverse(),
      };
      for (const d of [layer.upper, layer.work, layer.merged]) mkdirSync(d, { mode: 0o755 });
      const owner: Owner = { root: stateRoot, id, image: image.id };
      writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner));
      return layer;
    });
  }

  /** Unmounts (if mounted) and removes a container's layer. */
  removeContainerLayer(dir: string): void {
    const merged = join(dir, 'merged');
    // Rootless, the overlay was mounted in the container's own mount namespace, and went with it.
    if (!this.rootless) {
      try {
        native.umount2(merged, constants.MNT_DETACH | constants.UMOUNT_NOFOLLOW);
      } catch (error) {
        if (errnoCode(error) !== 'EINVAL' && errnoCode(error) !== 'ENOENT') throw error;
      }
    }
    // Never recurse into a merged view that is still a mount.
    if (existsSync(merged) && statSync(merged).dev !== statSync(dir).dev) {
      throw new ImageError(`${merged} is still mounted: not removing ${dir}`, 'EINUSE', { path: merged });
    }
    this.removeTrees([dir]);
  }
}

/** The parts of an image config (image-spec config.md) husk reads. */
export interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Volumes?: Record<string, object> | null;
    StopSignal?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, object> | null;
  };
  rootfs?: { type: string; diff_ids: string[] };
  history?: unknown[];
}
