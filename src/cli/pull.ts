import { type PullEvent, parseCreds, pullImage } from '../image/index.js';
import type { Command } from './command.js';
import { write } from './output.js';

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * A line per layer, as `docker pull`: rewritten in place on a terminal, plain
 * lines (one per change of status) otherwise.
 */
function progressDisplay(stream: NodeJS.WriteStream): (event: PullEvent) => void {
  const tty = stream.isTTY === true;
  const order: string[] = [];
  const lines = new Map<string, string>();
  let drawn = 0;
  let lastDraw = 0;
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    let out = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const digest of order) out += `\x1b[2K${digest.slice(7, 19)}: ${lines.get(digest)}\n`;
    drawn = order.length;
    stream.write(out);
  };
  return (event) => {
    if (event.kind === 'resolved') {
      stream.write(`${event.reference}: resolved to ${event.digest}\n`);
      return;
    }
    const status =
      event.status === 'present' ? 'already present'
      : event.status === 'done' ? `done (${mb(event.bytes ?? 0)})`
      : `downloading ${mb(event.bytes ?? 0)}${event.total !== undefined ? ` / ${mb(event.total)}` : ''}`;
    if (!lines.has(event.digest)) order.push(event.digest);
    const previous = lines.get(event.digest);
    lines.set(event.digest, status);
    if (tty) draw(event.status !== 'downloading');
    else if (previous === undefined || event.status !== 'downloading') stream.write(`${event.digest.slice(7, 19)}: ${event.status === 'downloading' ? 'downloading' : status}\n`);
  };
}

export const command: Command = {
  name: 'pull',
  summary: 'pull an image from a registry into the store',
  usage: 'REFERENCE',
  minArgs: 1,
  maxArgs: 1,
  options: [
    { name: 'tls-verify', type: 'boolean', summary: 'verify TLS certificates (default true; false also allows plain HTTP)' },
    { name: 'creds', type: 'string', value: 'USER:PASS', summary: 'credentials (default: auth.json / ~/.docker/config.json)' },
    { name: 'quiet', short: 'q', type: 'boolean', summary: 'print only the image id' },
  ],
  async run({ global, args, opts }) {
    const image = await pullImage(global.store !== undefined ? { store: global.store } : {}, args[0]!, {
      tlsVerify: opts['tls-verify'] !== false,
      ...(opts['creds'] !== undefined && { creds: parseCreds(opts['creds'] as string) }),
      ...(!opts['quiet'] && { onEvent: progressDisplay(process.stderr) }),
    });
    await write(process.stdout, `${image.id}\n`);
    return 0;
  },
};
