/**
 * The record of the resources last applied to a container's cgroup (resources.json
 * in its state directory), so that `update` merges into them as runc merges into
 * its saved config. Written at create (runtime/container.ts) and by update
 * (runtime/resources.ts).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxResources } from '../cgroups/index.js';

const RESOURCES_FILE = 'resources.json';

/** Records the resources applied to a container's cgroup (at create, and after each update). */
export function saveAppliedResources(stateDir: string, resources: LinuxResources): void {
  const file = join(stateDir, RESOURCES_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(resources), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
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
