/**
 * The OCI runtime-spec layer: config.json types, validation, bundle loading,
 * runc's default spec, and the Linux name tables (capabilities, rlimits,
 * signals). Pure TypeScript: no addon, no root.
 */
export type * from './types.js';
export { SpecError, BundleError, type BundleErrorKind } from './errors.js';
export {
  validateSpec,
  validateProcess,
  SUPPORTED_OCI_VERSIONS,
  NAMESPACE_TYPES,
  CAPABILITY_SETS,
  HOOK_NAMES,
  type ValidateOptions,
  type SpecWarning,
} from './validate.js';
export { loadBundle, loadBundleSync, CONFIG_FILE, type Bundle } from './load.js';
export {
  defaultSpec,
  formatSpec,
  OCI_VERSION,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  type DefaultSpecOptions,
} from './defaults.js';
export { CAPABILITY_NAMES, CAP_LAST_CAP, capabilityNumber, capabilityMask, capabilityNames, isCapabilityName } from './capabilities.js';
export { RLIMITS, RLIM_INFINITY, rlimitNumber, rlimitValue } from './rlimits.js';
export { parseSignal, signalName, UnknownSignalError, SIGRTMIN, SIGRTMAX } from './signals.js';
