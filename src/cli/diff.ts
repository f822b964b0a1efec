import { containerChanges } from '../runtime/image-changes.js';
import type { Command } from './command.js';
import { printJson, write } from './output.js';
import { runtimeOptions } from './runtime-options.js';

export const command: Command = {
  name: 'diff',
  summary: "show what a container changed in its image: A added, C changed, D deleted (docker diff)",
  usage: '<container-id>',
  minArgs: 1,
  maxArgs: 1,
  options: [{ name: 'format', type: 'string', value: 'text|json', summary: 'output format (default text)' }],
  async run({ global, args, opts }) {
    const changes = containerChanges(runtimeOptions(global), args[0]!);
    if (opts['format'] === 'json') await printJson(changes);
    else await write(process.stdout, changes.map((c) => `${c.kind} ${c.path}\n`).join(''));
    return 0;
  },
};
