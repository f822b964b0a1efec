// husk-init: the process that runs a container's plan (native/child.cc), exec'd by the
// runtime's clone from a sealed memfd right after the clone (native/launch.cc). It is
// not a copy of Node: a few hundred KiB of static code, so the runtime clones without
// copying its address space (CLONE_VM | CLONE_VFORK), and what reaches
// /proc/self/exe from here on is this sealed image, never a host file.
//
// Started with: the sync socket at HUSK_EXEC_SYNC_FD, husk-exec's memfd at
// HUSK_EXEC_HELPER_FD, the plan image's memfd at kInitPlanFd (native/plan_image.h),
// every fd of the runtime's the plan names (stdio, --preserve-fds, detached mounts), an
// empty environment, argv "husk init", and every signal blocked.
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "child.h"
#include "exec_helper.h"
#include "plan_image.h"
#include "sync_proto.h"

namespace {

// A failure before the plan runs: reported as op -1 ("set up the child").
[[noreturn]] void FailStart(int err) noexcept {
  husk::SyncMsg msg{husk::kSyncError, -1, err, 0};
  send(HUSK_EXEC_SYNC_FD, &msg, sizeof msg, MSG_NOSIGNAL);
  _exit(127);
}

}  // namespace

int main() noexcept {
  husk::PlanImageHeader header;
  ssize_t n = pread(husk::kInitPlanFd, &header, sizeof header, 0);
  if (n < 0) FailStart(errno);
  if (n != static_cast<ssize_t>(sizeof header) || header.magic != husk::kPlanImageMagic || header.ops_offset >= header.size) FailStart(EINVAL);
  // At the runtime's own address (the ops point into the image); MAP_FIXED_NOREPLACE
  // fails rather than cover anything of ours there.
  void* want = reinterpret_cast<void*>(header.base);
  void* image = mmap(want, header.size, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, husk::kInitPlanFd, 0);
  if (image == MAP_FAILED) FailStart(errno);
  if (image != want) FailStart(EEXIST);  // a kernel before 4.17 takes the flag as a hint
  close(husk::kInitPlanFd);
  prctl(PR_SET_NAME, "husk init", 0, 0, 0);
  const auto* ops = reinterpret_cast<const husk::Op*>(static_cast<const char*>(image) + header.ops_offset);
  husk::RunChild(ops, header.op_count, husk::ChildSetup{HUSK_EXEC_SYNC_FD, HUSK_EXEC_HELPER_FD});
}
