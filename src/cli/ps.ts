import { containerPids, containerProcessTree, containerTop, formatPsTable, formatTree } from '../ps/index.js';
import { type Command, UsageError } from './command.js';
import { printJson, write } from './output.js';
import { runtimeOptions } from './runtime-options.js';

/**
 * `husk ps [--format table|json] [--tree] <id> [ps options...]`, as runc ps: husk's
 * own flags come before the id, everything after it goes to ps verbatim.
 */
export const command: Command = {
  name: 'ps',
  summary: 'show the processes of a container (host pids; ps options after the id)',
  usage: '<container-id> [ps options...]',
  minArgs: 1,
  passThroughAfterFirst: true,
  options: [
    { name: 'format', short: 'f', type: 'string', value: 'table|json', summary: 'table (default), or json: the pid array as runc prints it' },
    { name: 'tree', type: 'boolean', summary: 'the process tree: host pid, pid in the container, user, state, command' },
  ],
  async run({ global, args, opts }) {
    const [id, ...psArgs] = args as [string, ...string[]];
    const format = (opts['format'] as string | undefined) ?? 'table';
    if (format !== 'table' && format !== 'json') throw new UsageError(`--format must be table or json, not "${format}"`);
    const rt = runtimeOptions(global);
    if (opts['tree']) {
      if (psArgs.length > 0) throw new UsageError(`--tree takes no ps options (got: ${psArgs.join(' ')})`);
      const { roots } = containerProcessTree(rt, id);
      if (format === 'json') await printJson(roots);
      else await write(process.stdout, formatTree(roots));
      return 0;
    }
    if (format === 'json') {
      // runc encodes the cgroup's pids with Go's json.Encoder: compact, one line; ps options are ignored.
      await write(process.stdout, JSON.stringify(containerPids(rt, id).pids) + '\n');
      return 0;
    }
    const table = await containerTop(rt, id, { psArgs });
    await write(process.stdout, formatPsTable(table));
    return 0;
  },
};
