/**
 * cgroups: the library the runtime uses to confine a process tree (youki's libcgroups is
 * the model). It knows nothing of containers.
 */
export { detectCgroups, isCgroup2UnifiedMode, ownCgroups, type CgroupLayout, type CgroupMode, type ProcCgroupEntry } from './detect.js';
export { resolveCgroupsPath, DEFAULT_CGROUP_PARENT, SELF_PARENT } from './path.js';
export { validateResources } from './validate.js';
export { createCgroupManager, createSystemdCgroupManager, loadCgroupManager, type CgroupManager, type SerializedCgroup, type CgroupHierarchy } from './manager.js';
export { CgroupError } from './errors.js';
export { parseSystemdCgroupsPath, expandSlice, type SystemdUnit } from './systemd.js';
export type { CgroupStats, MemoryStats, PidsStats, CpuStats, IoDeviceStats, HugetlbStats } from './stats.js';
export type { LinuxResources } from './resources-types.js';
