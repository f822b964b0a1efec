// The container's init (husk-init, native/init_main.cc): interprets the plan with raw
// system calls only, then execs.
#pragma once
#include <cstddef>

#include "plan_schema.h"

namespace husk {

// What the child takes from the runtime besides its plan.
struct ChildSetup {
  int sync_fd;         // the child's end of the sync socket
  int exec_helper_fd;  // the sealed memfd of husk-exec, the last exec (native/exec_helper.h)
};

// Never returns: ends in execve, or in _exit after reporting {op, errno} to the
// parent over the sync socket. Async-signal-safe: no allocation, no locks, no stdio,
// and credentials change through raw syscall() (glibc's wrappers would try to signal
// the parent's threads, which do not exist in this process).
[[noreturn]] void RunChild(const Op* ops, size_t count, const ChildSetup& setup) noexcept;

}  // namespace husk
