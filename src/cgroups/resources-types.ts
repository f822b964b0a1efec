/** The OCI runtime-spec `linux.resources` types, from the spec module (config-linux.md names). */
export type {
  LinuxResources,
  LinuxDeviceCgroup,
  LinuxMemory,
  LinuxCPU,
  LinuxPids,
  LinuxBlockIO,
  LinuxWeightDevice,
  LinuxThrottleDevice,
  LinuxHugepageLimit,
  LinuxNetwork,
} from '../spec/types.js';
