// The plan the cloned child interprets: a flat list of operations computed in
// TypeScript (src/plan/), decoded here into plain C memory before the clone, so
// that the child only reads memory and makes raw system calls.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace husk {

enum class OpKind : uint32_t {
  kUnshare, kSetns, kSync, kEnterRootfs, kMount, kRemount, kMknod, kSymlink, kMkdir,
  kMask, kReadonly, kPivotRoot, kMoveChroot, kChroot, kChdir, kSethostname,
  kSetdomainname, kWriteFile, kRlimit, kSetgroups, kSetuser, kCaps, kNoNewPrivs,
  kUmask, kSetsid, kPdeathsig, kDumpable, kOpenPty, kOpenGate, kWaitGate, kHook,
  kStdio, kCloseFds, kExec, kBounding, kResolveExec,
  kEscapeProbe,  // husk escape-lab only (native/escape_probe.h)
  kFork,         // husk exec: the rest of the plan runs in a grandchild (joined pid namespace)
  kSeccomp,      // install a seccomp filter (native/seccomp_filter.h)
};

// How an op's path is resolved (n[] slot named by the op).
enum PathMode : int64_t {
  kPathAsIs = 0,       // absolute or relative to the cwd, as the kernel resolves it
  kPathInRoot = 1,     // inside the rootfs: symlinks and ".." cannot leave it (openat2 RESOLVE_IN_ROOT)
  kPathInRootDir = 2,  // as kPathInRoot, creating missing directories
  kPathInRootFile = 3, // as kPathInRoot, creating missing parents and an empty file
};

struct Op {
  OpKind kind;
  const char* s[4] = {nullptr, nullptr, nullptr, nullptr};  // strings (nullptr = absent)
  int64_t n[6] = {0, 0, 0, 0, 0, 0};                         // numbers
  char* const* v[2] = {nullptr, nullptr};                    // NULL-terminated string vectors
  const int64_t* nv = nullptr;                               // a number vector
  int nv_len = 0;
};

struct Plan {
  uint64_t clone_flags = 0;
  std::vector<Op> ops;
  int cgroup_fd = -1;  // clone3(CLONE_INTO_CGROUP) target, -1 for none

  // Owns every string and vector the ops point into.
  std::vector<std::unique_ptr<char[]>> strings;
  std::vector<std::unique_ptr<char*[]>> string_vectors;
  std::vector<std::unique_ptr<int64_t[]>> number_vectors;

  const char* Keep(const std::string& s);
};

}  // namespace husk
