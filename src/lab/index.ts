/** The escape lab: chroot jails against pivot_root, tried for real (husk escape-lab). */
export type { AttemptId, AttemptInfo, ConfigurationId, ConfigurationInfo, EscapeLabReport, EscapeResult, Outcome } from './types.js';
export { attempts, configurations, planRow, type LabSetup } from './plan.js';
export { explainRow, whyOf } from './explain.js';
export { EscapeLabError, mountsUnder, parseProbeLine, runEscapeLab, type EscapeLabOptions, type ProbeLine } from './run.js';
export { formatReport, wrap } from './format.js';

import type { EscapeLabReport } from './types.js';

/** The exit status of `husk escape-lab`: 1 if a default jail (4 or 5) was escaped, 2 if a row could not be run, else 0. */
export function labExitCode(report: EscapeLabReport): number {
  if (report.defaultEscaped) return 1;
  return report.results.some((r) => r.outcome === 'error') ? 2 : 0;
}
