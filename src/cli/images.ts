import { listImages } from '../image/index.js';
import { type Command, UsageError } from './command.js';
import { formatTable } from '../text/table.js';
import { printJson, write } from './output.js';

function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export const command: Command = {
  name: 'images',
  summary: 'list the images of the store',
  usage: '',
  maxArgs: 0,
  options: [
    { name: 'format', short: 'f', type: 'string', value: 'table|json', summary: 'output format (default table)' },
    { name: 'quiet', short: 'q', type: 'boolean', summary: 'print only the ids' },
  ],
  async run({ global, opts }) {
    const images = listImages(global.store !== undefined ? { store: global.store } : {});
    const format = (opts['format'] as string | undefined) ?? 'table';
    if (opts['quiet']) {
      await write(process.stdout, images.map((i) => i.id + '\n').join(''));
    } else if (format === 'json') {
      await printJson(images.map((i) => ({ id: i.id, names: i.names, ...(i.digest !== undefined && { digest: i.digest }), layers: i.layers, size: i.size, created: i.created })));
    } else if (format === 'table') {
      const rows = images.flatMap((i) =>
        (i.names.length > 0 ? i.names : ['<none>:<none>']).map((name) => {
          const colon = name.lastIndexOf(':');
          const [repo, tag] = colon > name.lastIndexOf('/') ? [name.slice(0, colon), name.slice(colon + 1)] : [name, '<none>'];
          return [repo, tag, i.id.slice(7, 19), i.created ?? '', String(i.layers.length), humanSize(i.size)];
        }),
      );
      await write(process.stdout, formatTable(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'LAYERS', 'SIZE'], rows));
    } else {
      throw new UsageError('--format must be table or json');
    }
    return 0;
  },
};
