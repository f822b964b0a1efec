import { containerTop, type DockerTop, toDockerTop } from '../ps/index.js';
import { type Command, UsageError } from './command.js';
import { write } from './output.js';
import { runtimeOptions } from './runtime-options.js';

/**
 * The docker CLI's `docker top` text: Go's tabwriter with minwidth 20, padding 3,
 * space padding. Every column but the last is max(20, widest cell + 3) wide; the
 * last is printed as is, so a command with spaces stays whole.
 */
export function formatDockerTop(top: DockerTop): string {
  const lines = [top.Titles, ...top.Processes];
  const columns = Math.max(0, ...lines.map((cells) => cells.length));
  const widths: number[] = [];
  // Go's tabwriter measures in runes.
  const width = (text: string): number => [...text].length;
  for (let i = 0; i < columns - 1; i++) {
    widths.push(Math.max(20, ...lines.map((cells) => (i < cells.length - 1 ? width(cells[i]!) + 3 : 0))));
  }
  return lines
    .map((cells) => cells.map((cell, i) => (i < cells.length - 1 ? cell + ' '.repeat(widths[i]! - width(cell)) : cell)).join(''))
    .join('\n') + '\n';
}

/** `husk top [--format table|json] <id> [ps options...]`: docker top's shape. */
export const command: Command = {
  name: 'top',
  summary: "show a container's processes as docker top does (ps options after the id)",
  usage: '<container-id> [ps options...]',
  minArgs: 1,
  passThroughAfterFirst: true,
  options: [
    { name: 'format', short: 'f', type: 'string', value: 'table|json', summary: 'table (default), or json: the Docker Engine API container top body' },
  ],
  async run({ global, args, opts }) {
    const [id, ...psArgs] = args as [string, ...string[]];
    const format = (opts['format'] as string | undefined) ?? 'table';
    if (format !== 'table' && format !== 'json') throw new UsageError(`--format must be table or json, not "${format}"`);
    const body = toDockerTop(await containerTop(runtimeOptions(global), id, { psArgs }));
    // The Engine API sends the body as Go's json.Encoder writes it: compact, one line.
    await write(process.stdout, format === 'json' ? JSON.stringify(body) + '\n' : formatDockerTop(body));
    return 0;
  },
};
