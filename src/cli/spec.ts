import { statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errnoCode } from '../errors.js';
import type { Command } from './command.js';
import { CONFIG_FILE } from '../spec/load.js';
import { defaultSpec, formatSpec } from '../spec/defaults.js';
import { isCgroup2UnifiedMode } from '../cgroups/index.js';

/** `husk spec`: writes runc's default config.json (hostname "husk") into the bundle directory. */
export const command: Command = {
  name: 'spec',
  summary: 'create a new specification file (config.json)',
  usage: '',
  options: [
    { name: 'bundle', short: 'b', type: 'string', value: 'DIR', summary: 'bundle directory to write config.json into (default: current directory)' },
    { name: 'rootless', type: 'boolean', summary: 'generate a configuration for a rootless container' },
  ],
  maxArgs: 0,
  async run(ctx) {
    const bundle = ctx.opts['bundle'] as string | undefined;
    const dir = resolve(bundle ?? '.');
    if (bundle !== undefined) {
      // runc chdirs into the bundle first; same failure, same words.
      let isDir = false;
      try {
        isDir = statSync(dir).isDirectory();
      } catch (error) {
        const code = errnoCode(error);
        throw new Error(`chdir ${bundle}: ${code === 'ENOENT' ? 'no such file or directory' : code ?? String(error)}`);
      }
      if (!isDir) throw new Error(`chdir ${bundle}: not a directory`);
    }
    const spec = defaultSpec({ rootless: Boolean(ctx.opts['rootless']), cgroupNamespace: isCgroup2UnifiedMode() });
    try {
      // "wx": never overwrite, not even a file that appears between a check and the write.
      writeFileSync(join(dir, CONFIG_FILE), formatSpec(spec), { mode: 0o666, flag: 'wx' });
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') throw new Error(`File ${CONFIG_FILE} exists. Remove it first`);
      throw error;
    }
    return 0;
  },
};
