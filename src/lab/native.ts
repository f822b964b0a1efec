/**
 * The escape lab's addon (build/Release/husk_lab.node, native/binding_lab.cc): the
 * plan launcher with the lab's own ops compiled in (src/lab/schema.ts). The
 * runtime's addon has no op that plants a leaked fd; only the lab loads this one.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Launched, WirePlan } from '../native/index.js';
import { describeOp } from '../plan/ops.js';
import type { Interpreter } from '../runtime/launch.js';
import { describeLabOp, type LabPlanOp } from './schema.js';

interface LabNative {
  launch(plan: WirePlan): Launched;
}

// src/lab or dist/lab: the package root is two levels up.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let loaded: LabNative | undefined;

function load(): LabNative {
  if (loaded !== undefined) return loaded;
  const candidates = ['build/Release/husk_lab.node', 'build/Debug/husk_lab.node'].map((p) => join(packageRoot, p));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(`husk: the escape lab's addon is not built (looked for ${candidates[0]}): run \`npm run build:native\` in ${packageRoot}`);
  }
  loaded = createRequire(import.meta.url)(found) as LabNative;
  return loaded;
}

/** Runs a lab row's plan: the runtime's ops and the lab's. */
export const labInterpreter: Interpreter<LabPlanOp> = {
  launch: (plan) => load().launch(plan),
  describe: (op) => (op.kind === 'escape_probe' ? describeLabOp(op) : describeOp(op)),
};
