import { removeImage } from '../image/index.js';
import type { Command } from './command.js';
import { write } from './output.js';

export const command: Command = {
  name: 'rmi',
  summary: 'remove images (refused while a container uses one); layers no other image uses go too',
  usage: 'IMAGE...',
  minArgs: 1,
  options: [{ name: 'force', short: 'f', type: 'boolean', summary: 'remove the image even when other names point to it' }],
  async run({ global, args, opts }) {
    for (const ref of args) {
      const result = removeImage(global.store !== undefined ? { store: global.store } : {}, ref, Boolean(opts['force']));
      for (const name of result.untagged) await write(process.stdout, `Untagged: ${name}\n`);
      if (result.deleted !== undefined) await write(process.stdout, `Deleted: ${result.deleted}\n`);
      for (const layer of result.layers) await write(process.stdout, `Deleted layer: ${layer}\n`);
    }
    return 0;
  },
};
