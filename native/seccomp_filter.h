// The child's seccomp step: installs the BPF program TypeScript compiled
// (src/seccomp/compile.ts). Called from the child's plan interpreter (child.cc),
// so async-signal-safe like it: a static buffer, raw syscalls, no allocation.
//
// The op seccomp (src/plan/schema.ts):
//   flags  = SECCOMP_FILTER_FLAG_* bits
//   filter = the program, two numbers per instruction (exact in a JS number):
//            [code | jt << 16 | jf << 24, k]
#pragma once
#include "plan_schema.h"

namespace husk {

// Returns 0 (with SECCOMP_FILTER_FLAG_NEW_LISTENER: the notify fd), or -1 with errno
// set (EINVAL for a malformed or too long program).
int InstallSeccompFilter(const SeccompOp& op) noexcept;

}  // namespace husk
