/**
 * The escape lab's own plan ops, declared as src/plan/schema.ts declares the
 * runtime's. They exist only in the lab's addon (build/Release/husk_lab.node,
 * compiled with HUSK_LAB_OPS): the runtime's interpreter has no op that plants a
 * leaked fd, and its decoder refuses these kinds.
 */
import { f, type OpsOf, type OpTable, type SchemaOp } from '../plan/schema.js';

export const labOpSchema = {
  /**
   * native/escape_probe.h: probe 0 plants a leaked fd (not close-on-exec) to the
   * directory `path`; probes 1-4 run an escape attempt against the marker file
   * `path` (host path) in place of exec, write one result line to fd 1 and exit.
   */
  escape_probe: { probe: f.int(), path: f.string(), hostPid: f.int(), hostMountNsInode: f.int() },
} as const satisfies OpTable;

export type LabOp = OpsOf<typeof labOpSchema>;
/** A step of a lab row's plan: the runtime's ops and the lab's. */
export type LabPlanOp = SchemaOp | LabOp;

export function describeLabOp(op: LabOp): string {
  return op.probe === 0 ? `leak an fd to ${op.path}` : `escape attempt ${op.probe} against ${op.path}`;
}
