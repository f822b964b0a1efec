// cgroup v2 device control: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE
// generated from OCI device rules (linux.resources.devices), loaded with bpf()
// and attached to a cgroup directory. Model: runc's devicefilter, crun's ebpf.c.
#pragma once
#include <napi.h>

namespace husk {

// deviceFilterProgram(rules) -> Buffer of struct bpf_insn (pure, no syscall)
// attachDeviceFilter(cgroupDir, rules) -> { programId }
// queryDeviceFilters(cgroupDir) -> programId[]
// detachDeviceFilter(cgroupDir, programId) -> void
void InitCgroupDevices(Napi::Env env, Napi::Object exports);

}  // namespace husk
