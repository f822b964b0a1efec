import type { CgroupLayout } from './detect.js';

/** Which hierarchy drives a controller: a v1 mount takes precedence (hybrid hosts). */
export function controllerOwner(layout: CgroupLayout, controller: string): 'v1' | 'v2' | undefined {
  if (layout.v1Mounts[controller] !== undefined) return 'v1';
  if (layout.v2Controllers.includes(controller)) return 'v2';
  return undefined;
}
