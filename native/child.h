// The cloned child: interprets the plan with raw system calls only, then execs.
#pragma once
#include "plan.h"

namespace husk {

// Never returns: ends in execve, or in _exit after reporting {op, errno} to the
// parent over sync_fd. Async-signal-safe: no allocation, no locks, no stdio, and
// credentials change through raw syscall() (glibc's wrappers would try to signal
// the parent's threads, which do not exist in this process).
[[noreturn]] void RunChild(const Plan& plan, int sync_fd);

}  // namespace husk
