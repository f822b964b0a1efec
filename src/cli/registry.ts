import type { Command } from './command.js';
import { lightVerbs } from './light-verbs.js';

export interface VerbEntry {
  summary: string;
  load: () => Promise<{ command: Command }>;
}

/**
 * Every verb, loaded on demand. Adding a verb: write src/cli/<verb>.ts that
 * exports `command`, and list it here (a light one in src/cli/command-line.ts and src/cli/light-verbs.ts).
 */
export const verbs: Record<string, VerbEntry> = {
  create: { summary: 'create a container from a bundle (its process waits for start)', load: () => import('./create.js') },
  start: lightVerbs.start,
  run: { summary: 'create, start and wait for a container', load: () => import('./run.js') },
  exec: { summary: 'run a new process in a running container', load: () => import('./exec.js') },
  state: lightVerbs.state,
  kill: lightVerbs.kill,
  delete: lightVerbs.delete,
  list: lightVerbs.list,
  features: { summary: 'show what husk implements, as JSON (runc features)', load: () => import('./features.js') },
  info: { summary: 'show what this host offers for containers', load: () => import('./info.js') },
  spec: { summary: 'create a new specification file (config.json)', load: () => import('./spec.js') },
  'escape-lab': { summary: 'try jail escapes against chroot and pivot_root, for real', load: () => import('./escape-lab.js') },
  ps: { summary: 'show the processes of a container (runc ps)', load: () => import('./ps.js') },
  top: { summary: "show a container's processes as docker top does", load: () => import('./top.js') },
  pause: lightVerbs.pause,
  resume: lightVerbs.resume,
  update: { summary: "change a container's resource limits", load: () => import('./update.js') },
  image: { summary: 'import or inspect images (husk image import|inspect)', load: () => import('./image.js') },
  pull: { summary: 'pull an image from a registry (registry API v2)', load: () => import('./pull.js') },
  images: { summary: 'list the images of the store', load: () => import('./images.js') },
  rmi: { summary: 'remove images (and the layers no other image uses)', load: () => import('./rmi.js') },
  diff: { summary: "show what a container changed in its image (A/C/D)", load: () => import('./diff.js') },
  events: { summary: "print a container's stats and OOM events as JSON", load: () => import('./events.js') },
};
