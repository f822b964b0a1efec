#include "launch.h"

#include <fcntl.h>
#include <linux/memfd.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>

#include "errors.h"
#include "exec_helper.h"
#include "husk_exec_blob.h"  // kHuskExecBinary, generated from native/tools/exec_helper.c
#ifdef HUSK_LAB_OPS
#include "husk_lab_init_blob.h"  // kHuskInitBinary: husk-init with the escape lab's ops
#else
#include "husk_init_blob.h"  // kHuskInitBinary, husk-init (native/init_main.cc)
#endif
#include "plan_decode.h"
#include "plan_image.h"
#include "sync_proto.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace husk {
namespace {

// A binary in a memfd sealed against any change (F_SEAL_WRITE, SHRINK, GROW, and SEAL
// itself). Returns the fd, or -1 with errno set.
int SealedMemfd(const char* name, const void* data, size_t size) {
  int m = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (m < 0 && errno == EINVAL) m = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);  // before 6.3
  if (m < 0) return -1;
  const char* bytes = static_cast<const char*>(data);
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(m, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      close(m);
      errno = err;
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  if (fcntl(m, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    int err = errno;
    close(m);
    errno = err;
    return -1;
  }
  return m;
}

// One sealed memfd per binary, made once and kept for the process's life: husk-exec,
// the last exec of every process (CVE-2019-5736), and husk-init, the first.
struct SealedBinary {
  const char* name;
  const unsigned char* data;
  size_t size;
  std::once_flag once;
  int fd = -1;
  int error = 0;

  int Seal() {  // the fd, or -1 with errno set
    std::call_once(once, [this] {
      fd = SealedMemfd(name, data, size);
      error = fd < 0 ? errno : 0;
    });
    if (fd < 0) errno = error;
    return fd;
  }
};

SealedBinary g_exec_helper = {"husk-exec", kHuskExecBinary, sizeof kHuskExecBinary, {}};
SealedBinary g_init = {"husk-init", kHuskInitBinary, sizeof kHuskInitBinary, {}};

int SealedFd(Napi::Env env, SealedBinary& binary) {
  int fd = binary.Seal();
  if (fd < 0) ThrowErrno(env, "memfd_create", binary.name);
  return fd;
}

// What the clone needs between clone and exec, prepared by the parent (the clone
// shares its memory and only reads this).
struct InitStart {
  int sync_fd;         // the child's end of the sync socket
  int parent_sync_fd;  // ours, closed in the child
  int exec_helper_fd;  // husk-exec's sealed memfd
  int plan_fd;         // the plan image's sealed memfd
  int init_fd;         // husk-init's sealed memfd
  const char* const* argv;
  const char* const* envp;
};

// System calls without glibc between clone and exec: on x86_64 the clone shares the
// parent's memory (and the suspended thread's TLS, errno included), so it calls nothing
// that could write it or resolve a lazy PLT slot. Returns -errno on failure.
#if defined(__x86_64__)
long Sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) noexcept {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
  return ret;
}

// clone3 onto a stack of the caller's: the child runs fn(arg) there and exits with its
// value; the parent gets the pid or -errno. glibc has no public clone3 wrapper.
__attribute__((naked, noinline)) long Clone3OnStack(struct clone_args* /*args*/, size_t /*size*/, int (* /*fn*/)(void*), void* /*arg*/) noexcept {
  __asm__ volatile(
      "mov %rdx, %r8\n"  // fn and arg survive the syscall in r8/r9 (it clobbers rcx, r11)
      "mov %rcx, %r9\n"
      "mov $435, %eax\n"  // __NR_clone3
      "syscall\n"
      "test %rax, %rax\n"
      "jnz 1f\n"
      "xor %ebp, %ebp\n"  // the child, on its own stack
      "mov %r9, %rdi\n"
      "call *%r8\n"
      "mov %eax, %edi\n"
      "mov $60, %eax\n"  // __NR_exit
      "syscall\n"
      "hlt\n"
      "1: ret\n");
}
constexpr bool kCloneSharesMemory = true;
#else
long Sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) noexcept {
  long ret = syscall(n, a, b, c, d, e);
  return ret < 0 ? -errno : ret;
}
constexpr bool kCloneSharesMemory = false;  // a plain clone (a copy of the address space)
#endif

// Makes every open fd but `keep_cloexec` inheritable (the plan names the runtime's fds by
// number: stdio, --preserve-fds, detached mounts; the init's close_fds step marks the rest
// close-on-exec again before the container's program runs, as it did when the clone went
// on without an exec). Only this process's fd table changes.
void InheritAllFds(int keep_cloexec) noexcept {
  int dir = static_cast<int>(Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/proc/self/fd"), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir < 0) {
    for (int fd = 0; fd < 4096; fd++) {
      if (fd != keep_cloexec) Sys(SYS_fcntl, fd, F_SETFD, 0);
    }
    return;
  }
  alignas(8) char buf[2048];
  for (;;) {
    long n = Sys(SYS_getdents64, dir, reinterpret_cast<long>(buf), sizeof buf);
    if (n <= 0) break;
    for (long pos = 0; pos < n;) {
      const char* name = buf + pos + 19;  // struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name
      unsigned short reclen;
      __builtin_memcpy(&reclen, buf + pos + 16, sizeof reclen);
      pos += reclen;
      if (name[0] < '0' || name[0] > '9') continue;
      long fd = 0;
      for (const char* p = name; *p >= '0' && *p <= '9'; p++) fd = fd * 10 + (*p - '0');
      if (fd != dir && fd != keep_cloexec) Sys(SYS_fcntl, fd, F_SETFD, 0);
    }
  }
  Sys(SYS_close, dir);
}

bool IsPlaced(int fd) noexcept { return fd == HUSK_EXEC_SYNC_FD || fd == HUSK_EXEC_HELPER_FD || fd == kInitPlanFd; }

// dup onto a fixed number (inheritable), then close the original; false on failure.
bool PlaceFd(int fd, int to) noexcept {
  if (fd == to) return Sys(SYS_fcntl, fd, F_SETFD, 0) >= 0;
  if (Sys(SYS_dup3, fd, to, 0) < 0) return false;
  if (!IsPlaced(fd)) Sys(SYS_close, fd);
  return true;
}

// The clone, until it is husk-init: fds into place, then execveat of the sealed memfd.
// A failure is told over the sync socket as op -1 (the runtime: "set up the child").
int StartInit(void* arg) noexcept {
  const InitStart& start = *static_cast<const InitStart*>(arg);
  InheritAllFds(start.init_fd);
  if (!IsPlaced(start.parent_sync_fd)) Sys(SYS_close, start.parent_sync_fd);
  long err = EBADF;
  int sync = start.sync_fd;
  if (PlaceFd(start.sync_fd, HUSK_EXEC_SYNC_FD)) {
    sync = HUSK_EXEC_SYNC_FD;
    if (PlaceFd(start.exec_helper_fd, HUSK_EXEC_HELPER_FD) && PlaceFd(start.plan_fd, kInitPlanFd)) {
      err = -Sys(SYS_execveat, start.init_fd, reinterpret_cast<long>(""), reinterpret_cast<long>(start.argv), reinterpret_cast<long>(start.envp), AT_EMPTY_PATH);
    }
  }
  SyncMsg msg{kSyncError, -1, static_cast<int32_t>(err), 0};
  Sys(SYS_sendto, sync, reinterpret_cast<long>(&msg), sizeof msg, MSG_NOSIGNAL);
  return 127;
}

// The plan image in a sealed memfd, for husk-init to map.
int PlanImageFd(Napi::Env env, const Plan& plan) {
  int fd = SealedMemfd("husk-plan", plan.arena.base(), plan.arena.used());
  if (fd < 0) ThrowErrno(env, "memfd_create", "husk-plan");
  return fd;
}

}  // namespace

Napi::Value PrepareLaunch(const Napi::CallbackInfo& info) {
  static std::once_flag started;
  std::call_once(started, [] {
    // No signal for this thread: Node's handlers stay on its own threads.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    try {
      std::thread([] {
        g_exec_helper.Seal();
        g_init.Seal();
      }).detach();
    } catch (const std::system_error&) {
      // No thread: Launch seals them itself.
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  });
  return info.Env().Undefined();
}

Napi::Value Launch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "launch(plan): plan must be an object");
  std::unique_ptr<Plan> plan = DecodePlan(env, info[0].As<Napi::Object>());
  static const char* const init_argv[] = {"husk init", nullptr};  // its /proc/PID/cmdline, as runc's "runc init"
  static const char* const init_envp[] = {nullptr};               // nothing of husk's environment
  // The clone execs husk-init at once: in a user namespace with no id maps yet, that exec
  // would drop every capability. The planners make a user namespace with unshare instead.
  if (plan->clone_flags & CLONE_NEWUSER) throw Napi::Error::New(env, "launch: CLONE_NEWUSER in cloneFlags (the init makes its user namespace with unshare)");
  InitStart start = {-1, -1, SealedFd(env, g_exec_helper), -1, SealedFd(env, g_init), init_argv, init_envp};
  start.plan_fd = PlanImageFd(env, *plan);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    close(start.plan_fd);
    ThrowErrno(env, "socketpair");
  }
  start.sync_fd = sv[1];
  start.parent_sync_fd = sv[0];
  // The clone's stack while it shares our memory (until its execveat).
  constexpr size_t kStackSize = 64 * 1024;
  void* stack = kCloneSharesMemory ? mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0) : nullptr;
  if (stack == MAP_FAILED) {
    close(start.plan_fd);
    close(sv[0]);
    close(sv[1]);
    ThrowErrno(env, "mmap", "the clone's stack");
  }

  // Block every signal across the clone so no Node handler runs in the clone; husk-init
  // resets every handler, then unblocks.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);

  int pidfd = -1;
  struct clone_args args = {};
  args.flags = plan->clone_flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  if (plan->cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(plan->cgroup_fd);
  }
  const char* how = "clone3";
  long pid;
#if defined(__x86_64__)
  // No copy of Node's address space (its page tables, then copy-on-write faults in both
  // processes): the clone shares it, we wait (CLONE_VFORK) until it has exec'd husk-init,
  // as posix_spawn does. The init is the clone itself, so the engine's pid is still ours.
  args.flags |= CLONE_VM | CLONE_VFORK;
  args.stack = reinterpret_cast<uint64_t>(stack);
  args.stack_size = kStackSize;
  pid = Clone3OnStack(&args, sizeof args, StartInit, &start);
  if (pid == -ENOSYS && plan->cgroup_fd < 0) {  // before Linux 5.3: clone(2), pidfd_open below
    how = "clone";
    pid = clone(StartInit, static_cast<char*>(stack) + kStackSize, static_cast<int>(plan->clone_flags) | CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
    if (pid < 0) pid = -errno;
  }
  if (pid < 0) {
    errno = static_cast<int>(-pid);
    pid = -1;
  }
#else
  pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && errno == ENOSYS && plan->cgroup_fd < 0) {
    how = "clone";
    pid = syscall(SYS_clone, plan->clone_flags | SIGCHLD, 0, 0, 0, 0);
  }
  if (pid == 0) _exit(StartInit(&start));
#endif
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (stack != nullptr) munmap(stack, kStackSize);
  close(sv[1]);
  close(start.plan_fd);
  if (pid < 0) {
    close(sv[0]);
    errno = saved;
    ThrowErrno(env, how);
  }
  if (pidfd < 0) pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  fcntl(sv[0], F_SETFL, O_NONBLOCK);

  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", static_cast<double>(pid));
  result.Set("pidfd", pidfd);
  result.Set("syncFd", sv[0]);
  return result;
}

}  // namespace husk
