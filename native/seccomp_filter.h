// The child's seccomp step: installs the BPF program TypeScript compiled
// (src/seccomp/compile.ts). Called from the child's plan interpreter (child.cc),
// so async-signal-safe like it: a static buffer, raw syscalls, no allocation.
//
// The op seccomp (src/plan/ops.ts):
//   n[0] = SECCOMP_FILTER_FLAG_* bits
//   nv   = the program, two numbers per instruction (exact in a JS number):
//          [code | jt << 16 | jf << 24, k]
#pragma once
#include "plan.h"

namespace husk {

// Returns 0, or -1 with errno set (EINVAL for a malformed or too long program).
int InstallSeccompFilter(const Op& op);

}  // namespace husk
