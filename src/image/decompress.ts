/**
 * A layer blob's compression, found from its first bytes (gzip 1f 8b, zstd
 * 28 b5 2f fd, else a plain tar) rather than trusted from a media type, so
 * docker-archives (plain), OCI gzip and zstd layers all go one way.
 * gzip: Node's zlib. zstd: fzstd, a maintained pure-JS streaming decoder
 * (Node 20's zlib has no zstd, and a native binding would download a prebuilt
 * binary at install).
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';

export type Compression = 'gzip' | 'zstd' | 'none';

export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** A Transform that decompresses whatever its input turns out to be. */
export class AutoDecompress extends Transform {
  private head: Buffer[] = [];
  private headLength = 0;
  private feed?: (chunk: Buffer, done: (error?: Error | null) => void) => void;
  private finish?: (done: (error?: Error | null) => void) => void;
  compression?: Compression;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.feed !== undefined) return this.feed(chunk, callback);
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength < 4) return callback();
    this.start(callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.feed === undefined) {
      if (this.headLength === 0) return callback();
      this.start((error) => (error ? callback(error) : this.finish!(callback)));
      return;
    }
    this.finish!(callback);
  }

  private start(callback: TransformCallback): void {
    const first = Buffer.concat(this.head);
    this.head = [];
    this.compression = sniffCompression(first);
    if (this.compression === 'gzip') {
      const gunzip = createGunzip();
      gunzip.on('data', (data: Buffer) => this.push(data));
      let failed: Error | undefined;
      gunzip.on('error', (error) => {
        failed = error;
        this.destroy(error);
      });
      this.feed = (chunk, done) => {
        if (!gunzip.write(chunk)) gunzip.once('drain', () => done(failed));
        else done(failed);
      };
      this.finish = (done) => {
        gunzip.once('end', () => done(failed));
        gunzip.end();
      };
    } else if (this.compression === 'zstd') {
      const zstd = new ZstdDecompress((data) => this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
      this.feed = (chunk, done) => {
        try {
          zstd.push(chunk);
          done();
        } catch (error) {
          done(error as Error);
        }
      };
      this.finish = (done) => {
        try {
          zstd.push(new Uint8Array(0), true);
          done();
        } catch (error) {
          done(error as Error);
        }
      };
    } else {
      this.feed = (chunk, done) => {
        this.push(chunk);
        done();
      };
      this.finish = (done) => done();
    }
    this.feed(first, callback);
  }
}

/** A pass-through that hashes and counts what flows through it. */
export class Hashing extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
