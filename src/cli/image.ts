import { importImage, inspectImage } from '../image/index.js';
import { parseArgs } from './args.js';
import { type Command, type OptionSpec, UsageError } from './command.js';
import { printJson, write } from './output.js';

const importOptions: OptionSpec[] = [{ name: 'name', type: 'string', value: 'NAME[:TAG]', summary: 'name the imported image' }];

export const command: Command = {
  name: 'image',
  summary: 'import or inspect images',
  usage: 'import FILE|DIR [--name NAME[:TAG]] | inspect IMAGE...',
  minArgs: 1,
  options: [],
  passThroughAfterFirst: true,
  async run({ global, args }) {
    const [sub, ...rest] = args as [string, ...string[]];
    const store = global.store !== undefined ? { store: global.store } : {};
    if (sub === 'import') {
      const { opts, args: paths } = parseArgs(rest, importOptions);
      if (paths.length !== 1) throw new UsageError('usage: husk image import FILE|DIR [--name NAME[:TAG]]');
      const name = opts['name'] as string | undefined;
      const images = await importImage(store, paths[0]!, {
        ...(name !== undefined && { name }),
        onLayer: (diffId, status) => process.stderr.write(`${diffId.slice(7, 19)}: ${status === 'present' ? 'already present' : 'unpacked'}\n`),
      });
      for (const image of images) await write(process.stdout, `${image.id}${image.names.length > 0 ? ` ${image.names.join(' ')}` : ''}\n`);
      return 0;
    }
    if (sub === 'inspect') {
      if (rest.length === 0) throw new UsageError('usage: husk image inspect IMAGE...');
      await printJson(rest.map((ref) => inspectImage(store, ref)));
      return 0;
    }
    throw new UsageError(`husk image: unknown subcommand ${JSON.stringify(sub)} (import, inspect)`);
  },
};
