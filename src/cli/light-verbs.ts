import type { LightVerb } from './command-line.js';
import type { VerbEntry } from './registry.js';

/** The light verbs (src/cli/command-line.ts says which and why), loaded on demand. */
export const lightVerbs: Record<LightVerb, VerbEntry> = {
  start: { summary: 'start the process of a created container', load: () => import('./start.js') },
  state: { summary: "print a container's state JSON", load: () => import('./state.js') },
  kill: { summary: "signal a container's process", load: () => import('./kill.js') },
  delete: { summary: 'remove a container', load: () => import('./delete.js') },
  list: { summary: 'list containers', load: () => import('./list.js') },
  pause: { summary: 'suspend every process of a container', load: () => import('./pause.js') },
  resume: { summary: 'resume a paused container', load: () => import('./resume.js') },
};
