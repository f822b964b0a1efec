/**
 * The rootless unpacker: run by src/image/userns.ts inside the user's own user
 * namespace (`unshare` with the user's subordinate ranges), it unpacks the
 * layer blob on its stdin into DEST with unpackLayer, so the entries' owners
 * are ids of that namespace, and prints one JSON line: {"result": ...} or
 * {"error": {message, code, path}}.
 *
 *   node userns-helper.js unpack DEST trusted|user
 */
import { unpackLayer, type OverlayXattrs } from './unpack.js';
import { ImageError } from './errors.js';

async function main(argv: string[]): Promise<number> {
  const [verb, dest, xattrs] = argv;
  if (verb !== 'unpack' || dest === undefined || (xattrs !== 'trusted' && xattrs !== 'user')) {
    process.stderr.write('usage: userns-helper.js unpack DEST trusted|user\n');
    return 2;
  }
  try {
    const result = await unpackLayer(process.stdin, dest, { overlayXattrs: xattrs as OverlayXattrs });
    process.stdout.write(JSON.stringify({ result }) + '\n');
    return 0;
  } catch (error) {
    const e = error as Error & { code?: string; path?: string };
    const code = error instanceof ImageError ? e.code : 'EINVAL';
    process.stdout.write(JSON.stringify({ error: { message: e.message, code, ...(e.path !== undefined && { path: e.path }) } }) + '\n');
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
