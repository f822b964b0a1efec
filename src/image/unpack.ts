/**
 * Unpacking one layer tar (written by a stranger) into an empty directory, the
 * way containers/storage's overlay driver keeps layers: each layer on its own,
 * in overlay's format (whiteouts as char 0:0 devices, opaque directories with
 * trusted.overlay.opaque=y).
 *
 * Safety is the kernel's: every write goes through native.inRoot*, which
 * resolves the entry inside the layer root (openat2 RESOLVE_IN_ROOT) with no
 * symlink on the way (RESOLVE_NO_SYMLINKS) and never follows the last
 * component. On top of that, entries husk refuses are refused by name before
 * any syscall: ".." components, hard links that leave the layer, device nodes,
 * overlay's own xattrs. A refused layer throws ImageError EHOSTILE; the caller
 * (the store) unpacks into a temporary directory and removes it, so nothing of
 * a refused layer stays.
 */
import { closeSync, openSync, readFileSync, writeSync, constants as fsConstants } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { native } from '../native/index.js';
import { AutoDecompress, type Compression, Hashing } from './decompress.js';
import { errnoCode } from '../errors.js';
import { ImageError } from './errors.js';

/**
 * tar-stream decodes every PAX value as UTF-8, which mangles binary xattrs
 * (security.capability). Its PAX decoder is swapped for one that keeps the
 * values of SCHILY.xattr.* byte for byte (as latin1 strings, turned back into
 * bytes below) and decodes the rest as before.
 */
{
  const require = createRequire(import.meta.url);
  const headers = require(join(dirname(require.resolve('tar-stream')), 'headers.js')) as { decodePax: (buf: Buffer) => Record<string, string> };
  headers.decodePax = (buf: Buffer): Record<string, string> => {
    const result: Record<string, string> = {};
    while (buf.length > 0) {
      const space = buf.indexOf(0x20);
      if (space <= 0) return result;
      const length = parseInt(buf.subarray(0, space).toString('latin1'), 10);
      if (!(length > space) || length > buf.length) return result;
      const record = buf.subarray(space + 1, length - 1); // without the trailing newline
      const eq = record.indexOf(0x3d);
      if (eq === -1) return result;
      const key = record.subarray(0, eq).toString('utf8');
      result[key] = record.subarray(eq + 1).toString(key.startsWith('SCHILY.xattr.') ? 'latin1' : 'utf8');
      buf = buf.subarray(length);
    }
    return result;
  };
}

export interface UnpackResult {
  /** sha256 of the uncompressed tar: the layer's diffID. */
  diffId: string;
  /** sha256 of the bytes read (the blob's digest). */
  digest: string;
  compression: Compression;
  /** Bytes of the uncompressed tar. */
  size: number;
}

/**
 * Which xattrs mark overlay's opaque directories: trusted.overlay.* (root's
 * overlay), or user.overlay.* for an overlay mounted in a user namespace with
 * `userxattr` (rootless: trusted.* needs the host's CAP_SYS_ADMIN).
 */
export type OverlayXattrs = 'trusted' | 'user';

export interface UnpackOptions {
  /** Default 'trusted'. */
  overlayXattrs?: OverlayXattrs;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** A tar name as a path relative to the layer root ("" for the root); refuses ".." anywhere. */
export function entryPath(name: string, what = 'entry'): string {
  if (name.includes('\0')) throw new ImageError(`${what} ${JSON.stringify(name)}: the name contains a NUL byte`, 'EHOSTILE');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ImageError(`${what} ${JSON.stringify(name)}: ".." would leave the layer`, 'EHOSTILE', { path: name });
  return parts.join('/');
}

interface Meta {
  path: string;
  uid: number;
  gid: number;
  mode: number;
  mtime: [number, number];
  xattrs: [string, Buffer][];
}

type Header = tar.Header & { pax?: Record<string, string> | null };
type Entry = AsyncIterable<Buffer> & { header: tar.Header; resume(): unknown };

function metaOf(path: string, header: Header): Meta {
  const pax: Record<string, string> = header.pax ?? {};
  const number = (key: string, fallback: number | undefined): number => (pax[key] !== undefined ? Number(pax[key]) : (fallback ?? 0));
  let mtime: [number, number];
  if (pax['mtime'] !== undefined) {
    const [sec, frac = ''] = pax['mtime'].split('.');
    mtime = [Number(sec), Number((frac + '000000000').slice(0, 9))];
  } else {
    mtime = [Math.floor((header.mtime?.getTime() ?? 0) / 1000), 0];
  }
  const xattrs: [string, Buffer][] = [];
  for (const [key, value] of Object.entries(pax)) {
    if (!key.startsWith('SCHILY.xattr.')) continue;
    const name = key.slice('SCHILY.xattr.'.length);
    if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) {
      throw new ImageError(`entry ${JSON.stringify(path)}: the xattr ${name} is overlayfs's own; a layer may not set it`, 'EHOSTILE', { path });
    }
    xattrs.push([name, Buffer.from(value, 'latin1')]);
  }
  return { path, uid: number('uid', header.uid), gid: number('gid', header.gid), mode: (header.mode ?? 0o644) & 0o7777, mtime, xattrs };
}

/** The ids this process's user namespace maps, as "0-65536". */
function mappedIds(kind: 'uid' | 'gid'): string {
  try {
    return readFileSync(`/proc/self/${kind}_map`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).map(Number))
      .map(([inside = 0, , count = 0]) => `${inside}-${inside + count - 1}`)
      .join(', ');
  } catch {
    return 'unknown';
  }
}

/** Turns a failed inRoot* call into an error that says what the entry tried. */
function refusal(error: unknown, path: string, action: string): Error {
  const code = errnoCode(error);
  if (code === 'ELOOP') return new ImageError(`entry ${JSON.stringify(path)}: ${action} through a symlink: a layer may not write through symlinks`, 'EHOSTILE', { path, cause: error });
  if (code === 'EXDEV') return new ImageError(`entry ${JSON.stringify(path)}: ${action} would leave the layer`, 'EHOSTILE', { path, cause: error });
  if (code === 'ENOTDIR') return new ImageError(`entry ${JSON.stringify(path)}: ${action}: a parent is not a directory`, 'EHOSTILE', { path, cause: error });
  if (error instanceof ImageError) return error;
  return new ImageError(`entry ${JSON.stringify(path)}: ${action}: ${(error as Error).message}`, 'EINVAL', { path, cause: error });
}

/**
 * Unpacks `source` (a layer blob: gzip, zstd or plain tar) into `dest`, an
 * empty directory, keeping owners, modes (setuid included), xattrs and mtimes.
 */
export async function unpackLayer(source: Readable, dest: string, options: UnpackOptions = {}): Promise<UnpackResult> {
  const opaqueXattr = `${options.overlayXattrs ?? 'trusted'}.overlay.opaque`;
  const root = openSync(dest, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  const compressed = new Hashing();
  const decompress = new AutoDecompress();
  const uncompressed = new Hashing();
  const extract = tar.extract();
  const madeDirs = new Set<string>(['']);
  const dirMeta: Meta[] = [];

  const ensureParents = (path: string): void => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (madeDirs.has(dir)) continue;
      native.inRootMkdir(root, dir, 0o755);
      madeDirs.add(dir);
    }
  };
  const applyMeta = (meta: Meta): void => {
    try {
      native.inRootSetMeta(root, meta.path, meta.uid, meta.gid, meta.mode, meta.mtime[0], meta.mtime[1]);
    } catch (error) {
      // chown to an id the (rootless) user namespace does not map.
      if (errnoCode(error) === 'EINVAL' && (error as { syscall?: string }).syscall === 'fchownat') {
        throw new ImageError(
          `entry ${JSON.stringify(meta.path)}: owner ${meta.uid}:${meta.gid} is not mapped in this user namespace (uids ${mappedIds('uid')}, gids ${mappedIds('gid')}: rootless, the user and its first /etc/subuid and /etc/subgid ranges)`,
          'EINVAL',
          { path: meta.path, cause: error },
        );
      }
      throw error;
    }
    // After chown, which clears security.capability.
    for (const [name, value] of meta.xattrs) native.inRootSetXattr(root, meta.path, name, value);
  };

  const apply = async (entry: Entry): Promise<void> => {
    const header = entry.header as Header;
    const path = entryPath(header.name);
    const base = posix.basename(path);
    if (path === '') {
      entry.resume();
      return; // the layer root itself keeps the store's owner and mode
    }
    try {
      if (base.startsWith(WHITEOUT)) {
        entry.resume();
        const parent = posix.dirname(path) === '.' ? '' : posix.dirname(path);
        if (parent !== '') {
          ensureParents(path);
          native.inRootMkdir(root, parent, 0o755);
        }
        if (base === OPAQUE) {
          native.inRootSetXattr(root, parent === '' ? '.' : parent, opaqueXattr, Buffer.from('y'));
        } else if (!base.startsWith(WHITEOUT + WHITEOUT)) {
          const hidden = base.slice(WHITEOUT.length);
          if (hidden === '' || hidden === '.' || hidden === '..') throw new ImageError(`entry ${JSON.stringify(path)}: a whiteout of nothing`, 'EHOSTILE', { path });
          native.inRootMknod(root, parent === '' ? hidden : `${parent}/${hidden}`, fsConstants.S_IFCHR | 0o000, 0, 0);
        } // other .wh..wh. names are aufs's bookkeeping: ignored, as Docker does
        return;
      }
      ensureParents(path);
      const meta = metaOf(path, header);
      switch (header.type) {
        case 'directory':
          entry.resume();
          native.inRootMkdir(root, path, 0o700);
          madeDirs.add(path);
          dirMeta.push(meta);
          return;
        case 'file':
        case 'contiguous-file': {
          const fd = native.inRootCreate(root, path, 0o600);
          try {
            for await (const chunk of entry) {
              for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
            }
          } finally {
            closeSync(fd);
          }
          applyMeta(meta);
          return;
        }
        case 'symlink':
          entry.resume();
          native.inRootSymlink(root, path, header.linkname ?? '');
          applyMeta(meta);
          return;
        case 'link': {
          entry.resume();
          const target = entryPath(header.linkname ?? '', 'hard link target');
          if (target === '') throw new ImageError(`entry ${JSON.stringify(path)}: a hard link to the layer root`, 'EHOSTILE', { path });
          try {
            native.inRootLink(root, path, target);
          } catch (error) {
            if (errnoCode(error) === 'ENOENT') {
              throw new ImageError(`entry ${JSON.stringify(path)}: hard link to ${JSON.stringify(header.linkname)}, which is not in the layer`, 'EHOSTILE', { path, cause: error });
            }
            throw error;
          }
          return;
        }
        case 'fifo':
          entry.resume();
          native.inRootMknod(root, path, fsConstants.S_IFIFO | 0o600, 0, 0);
          applyMeta(meta);
          return;
        case 'character-device':
        case 'block-device':
          throw new ImageError(
            `entry ${JSON.stringify(path)}: ${header.type} ${header.devmajor}:${header.devminor}: husk does not make device nodes from images (the runtime makes /dev)`,
            'EHOSTILE',
            { path },
          );
        default:
          throw new ImageError(`entry ${JSON.stringify(path)}: unsupported tar entry type ${String(header.type)}`, 'EINVAL', { path });
      }
    } catch (error) {
      throw refusal(error, path, `${header.type ?? 'entry'}`);
    }
  };

  const consume = (async () => {
    for await (const entry of extract) await apply(entry as unknown as Entry);
  })();
  try {
    await Promise.all([
      pipeline(source, compressed, decompress, uncompressed, extract).catch((error: unknown) => {
        throw error instanceof ImageError ? error : new ImageError(`layer: cannot read: ${(error as Error).message}`, 'EINVAL', { cause: error });
      }),
      consume.catch((error: unknown) => {
        extract.destroy(error as Error);
        throw error;
      }),
    ]);
    // Directories last, deepest first: creating their entries would change their mtimes.
    dirMeta.sort((a, b) => b.path.length - a.path.length);
    for (const meta of dirMeta) {
      try {
        applyMeta(meta);
      } catch (error) {
        throw refusal(error, meta.path, 'directory');
      }
    }
  } finally {
    closeSync(root);
  }
  return { diffId: uncompressed.digest(), digest: compressed.digest(), compression: decompress.compression ?? 'none', size: uncompressed.bytes };
}
