/**
 * Rootless, the store's files are owned by the ids of the user's own user
 * namespace (uid 0 as the user, 1..N its /etc/subuid range, as podman's
 * storage keeps them), so a layer file owned by 1000 in the image is owned by
 * the range's 1000th id on the host, and a container in a user namespace with
 * the same maps sees it owned by 1000. Writing such files, and removing them,
 * happens inside that namespace: a re-exec, as `podman unshare` does.
 *
 * The namespace is made by util-linux's unshare(1), whose --map-users and
 * --map-groups write the ranges through the setuid newuidmap/newgidmap
 * (shadow's uidmap): a user cannot write a map of ids it does not own, and a
 * multithreaded Node cannot unshare a user namespace itself. unshare execs
 * the command, so the unpacker is this process's own child (killed with it).
 * Unpacking runs husk's own unpacker (userns-helper.js: tar-stream and the
 * addon's confined writes, as unpackLayer does for root), fed the blob on
 * stdin; removal is rm(1), which needs no Node start-up.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { rootlessIdMaps } from '../sys/rootless.js';
import { ImageError, type ImageErrorCode } from './errors.js';
import type { OverlayXattrs, UnpackResult } from './unpack.js';

/** unshare(1)'s arguments for the user's own user namespace. */
function unshareArgs(): string[] {
  const maps = rootlessIdMaps();
  const args = ['--user', '--map-user=0', '--map-group=0'];
  const uids = maps.uidMap[1];
  const gids = maps.gidMap[1];
  if (uids !== undefined && gids !== undefined) args.push(`--map-users=${uids.hostID},1,${uids.size}`, `--map-groups=${gids.hostID},1,${gids.size}`);
  return args;
}

/** What a failed unshare(1) means, in words a user can act on. */
function unshareFailure(stderr: string, what: string): ImageError {
  const text = stderr.trim();
  if (/unrecognized option '--map-users/.test(text)) {
    return new ImageError(`${what}: rootless image storage needs util-linux 2.38 or newer (unshare --map-users): ${text}`, 'EINVAL');
  }
  if (/newuidmap|newgidmap/.test(text) || /uid_map|gid_map/.test(text)) {
    return new ImageError(`${what}: cannot map the user's subordinate ids (check /etc/subuid, /etc/subgid and that newuidmap/newgidmap are installed setuid, package uidmap): ${text}`, 'EINVAL');
  }
  return new ImageError(`${what}: unshare: ${text || 'failed'}`, 'EINVAL');
}

/** dist/image/userns-helper.js (from src/, under the tests: the built one in dist/). */
function helperPath(): string {
  const path = fileURLToPath(new URL('./userns-helper.js', import.meta.url));
  if (existsSync(path)) return path;
  const built = path.replace(/\/src\/image\/userns-helper\.js$/, '/dist/image/userns-helper.js');
  if (existsSync(built)) return built;
  throw new ImageError(`the rootless unpacker ${path} is missing (npm run build)`, 'ENOTFOUND', { path });
}

/** Removes `paths` (recursively) from inside the user namespace, where the user may. */
export function removeInUserNamespace(paths: string[]): void {
  if (paths.length === 0) return;
  try {
    execFileSync('unshare', [...unshareArgs(), 'rm', '-rf', '--one-file-system', '--', ...paths], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    const e = error as { stderr?: string; code?: string };
    if (e.code === 'ENOENT') throw new ImageError('rootless image storage needs unshare(1) (util-linux)', 'ENOTFOUND', { cause: error });
    throw unshareFailure(e.stderr ?? (error as Error).message, `removing ${paths.join(', ')}`);
  }
}

/** unpackLayer, run inside the user namespace: the blob goes to the helper's stdin. */
export async function unpackInUserNamespace(source: Readable, dest: string, xattrs: OverlayXattrs): Promise<UnpackResult> {
  const child = spawn('unshare', [...unshareArgs(), process.execPath, helperPath(), 'unpack', dest, xattrs], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const exited = new Promise<{ code: number | null; spawnError?: Error }>((resolve) => {
    child.on('error', (spawnError) => resolve({ code: null, spawnError }));
    child.on('close', (code) => resolve({ code }));
  });
  // The helper stops reading at a refused entry: its report says why, not the broken pipe.
  const fed = pipeline(source, child.stdin).catch((error: unknown) => error as Error);
  const { code, spawnError } = await exited;
  const feedError = await fed;
  if (spawnError !== undefined) {
    if ((spawnError as { code?: string }).code === 'ENOENT') throw new ImageError('rootless image storage needs unshare(1) (util-linux)', 'ENOTFOUND', { cause: spawnError });
    throw spawnError;
  }
  const report = Buffer.concat(out).toString('utf8').trim();
  let parsed: { result?: UnpackResult; error?: { message: string; code: ImageErrorCode; path?: string } } | undefined;
  try {
    parsed = report === '' ? undefined : (JSON.parse(report) as typeof parsed);
  } catch {
    parsed = undefined;
  }
  // A source that failed (a dropped download) says why; the helper only saw its input end.
  const feedCode = (feedError as { code?: string } | undefined)?.code;
  if (feedError instanceof Error && !['EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED'].includes(feedCode ?? '')) {
    throw feedError instanceof ImageError ? feedError : new ImageError(`layer: cannot read: ${feedError.message}`, 'EINVAL', { cause: feedError });
  }
  if (parsed?.error !== undefined) {
    throw new ImageError(parsed.error.message, parsed.error.code, { ...(parsed.error.path !== undefined && { path: parsed.error.path }) });
  }
  if (code === 0 && parsed?.result !== undefined) return parsed.result;
  throw unshareFailure(Buffer.concat(err).toString('utf8'), `unpacking a layer into ${dest}`);
}
