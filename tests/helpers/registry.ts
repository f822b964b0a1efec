/**
 * A real registry on loopback for pull tests: Debian's docker-registry
 * (distribution) with its own config, data directory and a free port on
 * 127.0.0.1, stopped by stop() (call it in afterAll). Optionally behind
 * bearer-token auth, with a token server in this process signing JWTs the
 * registry checks against its own certificate, as Docker Hub's auth works.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createSign, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import { get as getHttps } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface TestRegistry {
  /** "127.0.0.1:PORT". */
  host: string;
  /** With `tls`: the PEM file of the CA that signed the registry's certificate (for 127.0.0.1). */
  caFile?: string;
  dir: string;
  /** The log of the registry (for failed tests). */
  log(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = (url.startsWith('https:') ? getHttps : get)(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

export interface RegistryOptions {
  /** Require a bearer token from a token server that knows this user. */
  tokenAuth?: { username: string; password: string };
  /** Require HTTP basic auth (htpasswd) for this user. */
  basicAuth?: { username: string; password: string };
  /** Serve https with a certificate for 127.0.0.1 signed by a CA of its own (TestRegistry.caFile). */
  tls?: boolean;
}

/** A CA and a server certificate for 127.0.0.1 that it signed, as PEM files in `dir`. */
function makeCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'server.key');
  const certFile = join(dir, 'server.crt');
  const openssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', '/CN=husk-test-ca']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', join(dir, 'server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName = IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', join(dir, 'server.csr'), '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', join(dir, 'server.ext')]);
  return { caFile, certFile, keyFile };
}

export async function startRegistry(dir: string, options: RegistryOptions = {}): Promise<TestRegistry> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  let tokenServer: Server | undefined;
  let auth = '';
  if (options.tokenAuth !== undefined) {
    const key = join(dir, 'token.key');
    const cert = join(dir, 'token.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=husk-test-token'], { stdio: 'ignore' });
    const der = execFileSync('openssl', ['x509', '-in', cert, '-outform', 'DER']);
    const tokenPort = await freePort();
    const { username, password } = options.tokenAuth;
    const b64 = (data: Buffer | string): string => Buffer.from(data).toString('base64url');
    tokenServer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const given = req.headers.authorization;
      const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      if (given !== expected) {
        res.writeHead(401).end();
        return;
      }
      const scope = url.searchParams.get('scope') ?? '';
      const [type, name, actions] = scope.split(':');
      const now = Math.floor(Date.now() / 1000);
      const header = b64(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] }));
      const claims = b64(
        JSON.stringify({
          iss: 'husk-test-issuer', sub: username, aud: 'husk-test-registry', exp: now + 600, nbf: now - 10, iat: now,
          jti: randomBytes(8).toString('hex'), access: type ? [{ type, name, actions: (actions ?? '').split(',') }] : [],
        }),
      );
      const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(readFileSync(key));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${header}.${claims}.${b64(signature)}` }));
    });
    await new Promise<void>((resolve) => tokenServer!.listen(tokenPort, '127.0.0.1', resolve));
    auth = `auth:
  token:
    realm: http://127.0.0.1:${tokenPort}/token
    service: husk-test-registry
    issuer: husk-test-issuer
    rootcertbundle: ${cert}
`;
  }
  if (options.basicAuth !== undefined) {
    const htpasswd = join(dir, 'htpasswd');
    writeFileSync(htpasswd, execFileSync('htpasswd', ['-Bbn', options.basicAuth.username, options.basicAuth.password]));
    auth = `auth:
  htpasswd:
    realm: husk-test
    path: ${htpasswd}
`;
  }
  const certificates = options.tls === true ? makeCertificates(dir) : undefined;
  const tls = certificates === undefined ? '' : `  tls:\n    certificate: ${certificates.certFile}\n    key: ${certificates.keyFile}\n`;
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
${tls}${auth}`,
  );
  let output = '';
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await probe(`${certificates === undefined ? 'http' : 'https'}://${host}/v2/`);
    if (status === 200 || status === 401) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      tokenServer?.close();
      throw new Error(`docker-registry did not come up on ${host}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    ...(certificates !== undefined && { caFile: certificates.caFile }),
    dir,
    log: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await new Promise<void>((resolve) => (tokenServer ? tokenServer.close(() => resolve()) : resolve()));
    },
  };
}

/** Pushes an OCI layout (or any skopeo source) to the registry (async: the token server lives in this process). */
export async function push(source: string, registry: TestRegistry, repository: string, creds?: string): Promise<void> {
  await promisify(execFile)(
    'skopeo',
    ['copy', '--quiet', '--dest-tls-verify=false', ...(creds !== undefined ? ['--dest-creds', creds] : []), source, `docker://${registry.host}/${repository}`],
    { timeout: 120_000 },
  );
}
