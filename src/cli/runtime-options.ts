import type { RuntimeOptions } from '../runtime/container.js';
import type { GlobalOptions } from './command.js';
import { appendFileSync } from 'node:fs';

/** The runtime options every lifecycle verb passes on: state root, cgroup parent, debug log. */
export function runtimeOptions(global: GlobalOptions): RuntimeOptions {
  const options: RuntimeOptions = { root: global.root };
  if (global.cgroupParent !== undefined) options.cgroupParent = global.cgroupParent;
  if (global.systemdCgroup) options.systemdCgroup = true;
  if (global.debug) {
    options.debug = (message) => {
      const line = global.logFormat === 'json'
        ? JSON.stringify({ level: 'debug', msg: message, time: new Date().toISOString() })
        : `husk: debug: ${message}`;
      if (global.log !== undefined) appendFileSync(global.log, line + '\n');
      else process.stderr.write(line + '\n');
    };
  }
  return options;
}
