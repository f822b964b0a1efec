/**
 * Images as a library: the store (src/image/store.ts), imports of archives and
 * layouts, pulls from registries. Every function takes `{ store }` (default:
 * HUSK_STORE, else /var/lib/husk, rootless ~/.local/share/husk); run an image with createContainer({ image }).
 */
import { importArchive, type ImportOptions } from './archive.js';
import { pull, type PullOptions } from './registry.js';
import { type ImageConfig, type ImageRecord, ImageStore, storeDir } from './store.js';

export interface StoreOptions {
  /** The store directory (default: HUSK_STORE, else /var/lib/husk; rootless $XDG_DATA_HOME/husk, ~/.local/share/husk). */
  store?: string;
}

export function openStore(options: StoreOptions = {}): ImageStore {
  return new ImageStore(storeDir(options.store));
}

/** Imports a docker-archive, an oci-archive or an OCI layout directory. */
export function importImage(options: StoreOptions, path: string, importOptions: ImportOptions = {}): Promise<ImageRecord[]> {
  return importArchive(openStore(options), path, importOptions);
}

/** Pulls an image from a registry (registry API v2); layers already in the store are skipped. */
export function pullImage(options: StoreOptions, reference: string, pullOptions: PullOptions = {}): Promise<ImageRecord> {
  return pull(openStore(options), reference, pullOptions);
}

export function listImages(options: StoreOptions = {}): ImageRecord[] {
  return openStore(options).listImages();
}

/** The image's record and its config. */
export function inspectImage(options: StoreOptions, ref: string): ImageRecord & { config: ImageConfig } {
  const store = openStore(options);
  const image = store.getImage(ref);
  return { ...image, config: store.imageConfig(image) };
}

/** Removes an image (refused while a container uses it) and the layers no other image uses. */
export function removeImage(options: StoreOptions, ref: string, force = false): ReturnType<ImageStore['removeImage']> {
  return openStore(options).removeImage(ref, force);
}

export { ImageStore, storeDir, DEFAULT_STORE, type ImageRecord, type ImageConfig, type LayerRecord } from './store.js';
export { ImageError, type ImageErrorCode } from './errors.js';
export { parseReference, normalizeName, type Reference } from './reference.js';
export type { ImportOptions } from './archive.js';
export { parseCreds, type PullOptions, type PullEvent, type Credentials } from './registry.js';
