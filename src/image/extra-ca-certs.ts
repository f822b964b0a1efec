/**
 * NODE_EXTRA_CA_CERTS for `husk pull`, without its price on every other command.
 *
 * Node 20 reads NODE_EXTRA_CA_CERTS when it starts, before any of our code runs, and that costs
 * about 85 ms per process here (it parses the whole file and builds a certificate store): on every
 * `husk start`, `state`, `kill` and `delete` an engine makes, though only a registry pull ever
 * opens a TLS connection. So the launcher (dist/cli.cjs, its first two lines) moves the value to
 * HUSK_NODE_EXTRA_CA_CERTS before it execs Node, and the registry client adds those certificates
 * to Node's own roots here, on first use, as Node itself would have.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';

/** Where the launcher puts NODE_EXTRA_CA_CERTS's value (scripts/bundle-cli.mjs writes that line). */
export const carriedVariable = 'HUSK_NODE_EXTRA_CA_CERTS';

let cached: { agent: Agent | undefined } | undefined;

/**
 * The agent for verified https requests: undefined when Node's defaults apply (no extra
 * certificates, or Node loaded NODE_EXTRA_CA_CERTS itself because husk was started as
 * `node dist/cli.js`); else one agent, made once, that trusts Node's bundled roots plus the file's
 * certificates (one agent: a per-request `ca` would rebuild the store on every connection). A file
 * that cannot be read is ignored with a warning, as Node does.
 */
export function extraCaAgent(env: NodeJS.ProcessEnv = process.env): Agent | undefined {
  if (cached !== undefined) return cached.agent;
  const file = env['NODE_EXTRA_CA_CERTS'] === undefined ? env[carriedVariable] : undefined;
  let agent: Agent | undefined;
  if (file !== undefined && file !== '') {
    try {
      agent = new Agent({ ca: [...rootCertificates, readFileSync(file, 'utf8')] });
    } catch (error) {
      process.emitWarning(`Ignoring extra certs from \`${file}\` (NODE_EXTRA_CA_CERTS), load failed: ${(error as Error).message}`);
    }
  }
  cached = { agent };
  return agent;
}
