// The cloned child: interprets the plan with raw system calls only, then execs.
#pragma once
#include <cstddef>

#include "plan_schema.h"

namespace husk {

// Never returns: ends in execve, or in _exit after reporting {op, errno} to the
// parent over sync_fd. Async-signal-safe: no allocation, no locks, no stdio, and
// credentials change through raw syscall() (glibc's wrappers would try to signal
// the parent's threads, which do not exist in this process).
[[noreturn]] void RunChild(const Op* ops, size_t count, int sync_fd) noexcept;

}  // namespace husk
