/**
 * The record of the resources last applied to a container's cgroup (resources.json
 * in its state directory), so that `update` merges into them as runc merges into
 * its saved config. Written at create (runtime/container.ts) and by update
 * (runtime/resources.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxResources } from '../cgroups/index.js';
import { writeFileAtomic } from './state.js';

const RESOURCES_FILE = 'resources.json';

/** Records the resources applied to a container's cgroup (at create, and after each update). */
export function saveAppliedResources(stateDir: string, resources: LinuxResources): void {
  writeFileAtomic(join(stateDir, RESOURCES_FILE), JSON.stringify(resources));
}

/** The resources last applied; {} for a container created before they were recorded. */
export function loadAppliedResources(stateDir: string): LinuxResources {
  try {
    return JSON.parse(readFileSync(join(stateDir, RESOURCES_FILE), 'utf8')) as LinuxResources;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return {};
    throw error;
  }
}
