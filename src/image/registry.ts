/**
 * `husk pull`: the OCI distribution protocol (registry API v2). The manifest
 * (a list or index resolved to this host's platform), then the config, then
 * every layer not in the store yet, several at once, each streamed from the
 * socket through its digest check and decompressor into the unpacker: a blob
 * is never kept whole in memory or on disk, and a layer whose digest or diffID
 * does not match is dropped before it is renamed into the store.
 *
 * Auth as Docker does it: a 401 names a Bearer realm (a token is fetched
 * there, with credentials when we have some) or Basic. Credentials come from
 * --creds, else the usual auth files. Plain HTTP only with --tls-verify=false
 * (which also accepts any certificate), as podman.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { Transform } from 'node:stream';
import { chainIds, checkDigest, sha256, verifyDigest } from './digest.js';
import { ImageError } from './errors.js';
import { extraCaAgent } from './extra-ca-certs.js';
import { MANIFEST_ACCEPT, type Manifest, parseManifest, selectPlatform } from './manifest.js';
import { formatReference, parseReference, type Reference } from './reference.js';
import type { ImageConfig, ImageRecord, ImageStore } from './store.js';

export interface Credentials {
  username: string;
  password: string;
}

export type PullEvent =
  | { kind: 'resolved'; reference: string; digest: string; layers: string[] }
  | { kind: 'layer'; digest: string; status: 'present' | 'downloading' | 'done'; bytes?: number; total?: number };

export interface PullOptions {
  /** false: accept any certificate, and plain HTTP when the registry has no TLS. */
  tlsVerify?: boolean;
  creds?: Credentials;
  /** Layers downloaded at once (default 3). */
  concurrency?: number;
  onEvent?: (event: PullEvent) => void;
}

const MAX_MANIFEST = 4 << 20;

/** USER:PASS. */
export function parseCreds(text: string): Credentials {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new ImageError('--creds must be USER:PASSWORD', 'EINVAL');
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Credentials for a registry from the auth files podman and docker write. */
export function credentialsFromAuthFiles(registry: string): Credentials | undefined {
  const files = [
    process.env['REGISTRY_AUTH_FILE'],
    process.env['XDG_RUNTIME_DIR'] !== undefined ? `${process.env['XDG_RUNTIME_DIR']}/containers/auth.json` : `/run/containers/${process.getuid?.() ?? 0}/auth.json`,
    `${process.env['DOCKER_CONFIG'] ?? `${homedir()}/.docker`}/config.json`,
  ].filter((f): f is string => f !== undefined);
  const keys = registry === 'docker.io' ? ['docker.io', 'index.docker.io', 'https://index.docker.io/v1/', 'registry-1.docker.io'] : [registry, `https://${registry}`, `http://${registry}`];
  for (const file of files) {
    let auths: Record<string, { auth?: string }>;
    try {
      auths = (JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, { auth?: string }> }).auths ?? {};
    } catch {
      continue;
    }
    for (const key of keys) {
      const auth = auths[key]?.auth;
      if (auth === undefined) continue;
      const decoded = Buffer.from(auth, 'base64').toString('utf8');
      try {
        return parseCreds(decoded);
      } catch {
        continue;
      }
    }
  }
  return undefined;
}

interface Response {
  status: number;
  headers: IncomingMessage['headers'];
  body: IncomingMessage;
}

function send(url: URL, headers: Record<string, string>, insecure: boolean): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const tls = url.protocol !== 'https:' ? {} : insecure ? { rejectUnauthorized: false } : { agent: extraCaAgent() };
    const req = request(url, { method: 'GET', headers, ...tls }, (res) =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`no answer from ${url.host} in 60 s`)));
    req.on('error', reject);
    req.end();
  });
}

async function readBody(res: Response, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of res.body) {
    length += (chunk as Buffer).length;
    if (length > limit) {
      res.body.destroy();
      throw new ImageError(`${what}: larger than ${limit} bytes`, 'EREGISTRY');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** key="value" pairs of a WWW-Authenticate challenge. */
function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

/** One registry, one repository: the base URL found once, the auth kept between requests. */
class RegistryClient {
  private base?: string;
  private authorization?: string;

  constructor(
    private readonly ref: Reference,
    private readonly options: PullOptions,
  ) {}

  private get host(): string {
    return this.ref.registry === 'docker.io' ? 'registry-1.docker.io' : this.ref.registry;
  }

  private get insecure(): boolean {
    return this.options.tlsVerify === false;
  }

  private creds(): Credentials | undefined {
    return this.options.creds ?? credentialsFromAuthFiles(this.ref.registry);
  }

  /** https, or with --tls-verify=false plain http when the registry speaks no TLS. */
  private async baseUrl(): Promise<string> {
    if (this.base !== undefined) return this.base;
    const https = `https://${this.host}`;
    try {
      const res = await send(new URL(`${https}/v2/`), {}, this.insecure);
      res.body.resume();
      this.base = https;
    } catch (error) {
      if (!this.insecure) {
        throw new ImageError(`${this.host}: cannot reach the registry over https: ${(error as Error).message} (a plain-HTTP registry needs --tls-verify=false)`, 'EREGISTRY', { cause: error });
      }
      this.base = `http://${this.host}`;
    }
    return this.base;
  }

  private async authenticate(challenge: string): Promise<void> {
    const { scheme, params } = parseChallenge(challenge);
    const creds = this.creds();
    const basic = creds !== undefined ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
    if (scheme === 'basic') {
      if (basic === undefined) throw new ImageError(`${this.host}: the registry wants a user and password (--creds USER:PASS or an auth file)`, 'EAUTH');
      this.authorization = basic;
      return;
    }
    if (scheme !== 'bearer' || params['realm'] === undefined) throw new ImageError(`${this.host}: unsupported auth challenge ${JSON.stringify(challenge)}`, 'EAUTH');
    const url = new URL(params['realm']);
    if (url.protocol === 'http:' && !this.insecure) throw new ImageError(`${this.host}: the token realm ${url.origin} is plain HTTP (needs --tls-verify=false)`, 'EAUTH');
    if (params['service'] !== undefined) url.searchParams.set('service', params['service']);
    url.searchParams.set('scope', params['scope'] ?? `repository:${this.ref.repository}:pull`);
    const res = await send(url, basic !== undefined ? { authorization: basic } : {}, this.insecure);
    const body = await readBody(res, 1 << 20, 'token');
    if (res.status === 401 || res.status === 403) throw new ImageError(`${this.host}: the token server refused ${creds !== undefined ? `the credentials of ${creds.username}` : 'an anonymous pull'} (${res.status})`, 'EAUTH');
    if (res.status !== 200) throw new ImageError(`${this.host}: token server answered ${res.status}`, 'EAUTH');
    const json = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string };
    const token = json.token ?? json.access_token;
    if (token === undefined) throw new ImageError(`${this.host}: the token server gave no token`, 'EAUTH');
    this.authorization = `Bearer ${token}`;
  }

  /** GET a path of the repository, authenticating on a 401 and following redirects. */
  async get(path: string, accept?: string): Promise<Response> {
    const base = await this.baseUrl();
    let url = new URL(`${base}/v2/${this.ref.repository}/${path}`);
    for (let attempt = 0, redirects = 0; ; ) {
      const headers: Record<string, string> = { 'user-agent': 'husk' };
      if (accept !== undefined) headers['accept'] = accept;
      // Credentials go to the registry only, not to where it redirects (blob storage).
      if (this.authorization !== undefined && url.host === new URL(base).host) headers['authorization'] = this.authorization;
      const res = await send(url, headers, this.insecure);
      if (res.status === 401 && attempt === 0 && typeof res.headers['www-authenticate'] === 'string') {
        res.body.resume();
        attempt++;
        await this.authenticate(res.headers['www-authenticate']);
        continue;
      }
      if ([301, 302, 303, 307, 308].includes(res.status) && typeof res.headers.location === 'string' && redirects < 5) {
        res.body.resume();
        redirects++;
        url = new URL(res.headers.location, url);
        if (url.protocol === 'http:' && !this.insecure) throw new ImageError(`${this.host}: redirected to plain HTTP ${url.origin} (needs --tls-verify=false)`, 'EREGISTRY');
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        res.body.resume();
        throw new ImageError(`${this.host}/${this.ref.repository}: access denied (${res.status})`, 'EAUTH');
      }
      if (res.status === 404) {
        res.body.resume();
        throw new ImageError(`${formatReference(this.ref)}: not found in the registry (${path})`, 'ENOTFOUND');
      }
      if (res.status !== 200) {
        const text = (await readBody(res, 64 << 10, path).catch(() => Buffer.alloc(0))).toString('utf8').slice(0, 300);
        throw new ImageError(`${this.host}: GET ${path}: ${res.status} ${text}`, 'EREGISTRY');
      }
      return res;
    }
  }

  /** A manifest or index by tag or digest, its digest checked. */
  async manifest(reference: string): Promise<{ data: Buffer; digest: string; mediaType?: string }> {
    const res = await this.get(`manifests/${reference}`, MANIFEST_ACCEPT);
    const data = await readBody(res, MAX_MANIFEST, `manifest ${reference}`);
    const digest = sha256(data);
    if (reference.startsWith('sha256:')) verifyDigest(reference, digest, `manifest ${reference}`);
    const header = res.headers['docker-content-digest'];
    if (typeof header === 'string' && header.startsWith('sha256:')) verifyDigest(header, digest, `manifest ${reference} (Docker-Content-Digest)`);
    const type = res.headers['content-type'];
    return { data, digest, ...(typeof type === 'string' && { mediaType: type.split(';')[0]! }) };
  }

  async blob(digest: string, limit?: number): Promise<Buffer> {
    const data = await readBody(await this.get(`blobs/${digest}`), limit ?? MAX_MANIFEST, `blob ${digest}`);
    verifyDigest(digest, sha256(data), `blob ${digest}`);
    return data;
  }
}

/** Counts bytes on their way to the unpacker. */
class Progress extends Transform {
  bytes = 0;
  constructor(private readonly tick: (bytes: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, callback: (e?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    this.tick(this.bytes);
    callback(null, chunk);
  }
}

/** Runs `tasks` with at most `limit` at once; the first failure fails all. */
async function inParallel(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && failed === undefined) {
      const task = tasks[next++]!;
      try {
        await task();
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failed !== undefined) throw failed;
}

/** Pulls `text` (a reference) into the store. */
export async function pull(store: ImageStore, text: string, options: PullOptions = {}): Promise<ImageRecord> {
  const ref = parseReference(text);
  const client = new RegistryClient(ref, options);
  const emit = options.onEvent ?? (() => {});
  let top = await client.manifest(ref.digest ?? ref.tag ?? 'latest');
  let parsed = parseManifest(top.data, `manifest of ${formatReference(ref)}`, top.mediaType);
  if (parsed.kind === 'index') {
    const chosen = selectPlatform(parsed.index, `index of ${formatReference(ref)}`);
    top = await client.manifest(chosen.digest);
    parsed = parseManifest(top.data, `manifest ${chosen.digest}`, top.mediaType);
    if (parsed.kind !== 'manifest') throw new ImageError(`${formatReference(ref)}: an index inside an index`, 'EINVAL');
  }
  const manifest: Manifest = parsed.manifest;
  const configData = await client.blob(manifest.config.digest);
  const config = JSON.parse(configData.toString('utf8')) as ImageConfig;
  const diffIds = (config.rootfs?.diff_ids ?? []).map((d) => checkDigest(d, 'config diff_id'));
  if (diffIds.length !== manifest.layers.length) throw new ImageError(`${formatReference(ref)}: the config lists ${diffIds.length} layers, the manifest ${manifest.layers.length}`, 'EINVAL');
  emit({ kind: 'resolved', reference: formatReference(ref), digest: top.digest, layers: manifest.layers.map((l) => l.digest) });
  const chains = chainIds(diffIds);
  const tasks = manifest.layers.map((layer, i) => async () => {
    if (store.hasLayer(chains[i]!)) {
      emit({ kind: 'layer', digest: layer.digest, status: 'present' });
      return;
    }
    const res = await client.get(`blobs/${layer.digest}`);
    const total = Number(res.headers['content-length'] ?? layer.size ?? 0) || undefined;
    emit({ kind: 'layer', digest: layer.digest, status: 'downloading', bytes: 0, ...(total !== undefined && { total }) });
    const progress = new Progress((bytes) => emit({ kind: 'layer', digest: layer.digest, status: 'downloading', bytes, ...(total !== undefined && { total }) }));
    res.body.on('error', (error) => progress.destroy(error));
    try {
      await store.addLayer(chains[i]!, { diffId: diffIds[i]!, digest: layer.digest }, () => res.body.pipe(progress));
    } finally {
      // Another husk stored the layer meanwhile (the body was never read): close the connection, or it holds this process for its timeout.
      if (!res.body.readableEnded) res.body.destroy();
    }
    emit({ kind: 'layer', digest: layer.digest, status: 'done', bytes: progress.bytes });
  });
  await inParallel(tasks, options.concurrency ?? 3);
  store.putBlob(manifest.config.digest, configData);
  const size = chains.reduce((sum, c) => sum + store.layer(c).size, 0);
  return store.saveImage({
    id: manifest.config.digest,
    names: ref.tag !== undefined ? [formatReference({ registry: ref.registry, repository: ref.repository, tag: ref.tag })] : [],
    digest: top.digest,
    layers: diffIds,
    size,
    ...(config.created !== undefined && { created: config.created }),
  });
}
