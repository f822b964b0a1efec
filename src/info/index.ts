/** What this host offers for containers: the library side of `husk info`. */
export { collectHostInfo } from './collect.js';
export { formatHostInfo } from './format.js';
export { canCreateNamespace, probePivotRoot } from './probes.js';
export { describeCgroups, readCgroupReport } from './cgroups.js';
export type * from './types.js';
