import type { Command } from './command.js';

/**
 * Every verb, loaded on demand. Adding a verb: write src/cli/<verb>.ts that
 * exports `command`, and list it here.
 */
export const verbs: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  info: { summary: 'show what this host offers for containers', load: () => import('./info.js') },
  spec: { summary: 'create a new specification file (config.json)', load: () => import('./spec.js') },
};
