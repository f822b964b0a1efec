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

#include "child.h"
#include "errors.h"
#include "husk_exec_blob.h"  // kHuskExecBinary, generated from native/tools/exec_helper.c
#include "plan_decode.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace husk {
namespace {

// husk-exec in a memfd sealed against any change (F_SEAL_WRITE, SHRINK, GROW, and
// SEAL itself), made once per process: every child execveat()s it as its last exec,
// so a container never reaches a host file through /proc/self/exe (CVE-2019-5736).
int ExecHelperFd(Napi::Env env) {
  static std::once_flag once;
  static int fd = -1;
  static int error = 0;
  std::call_once(once, [] {
    int m = memfd_create("husk-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (m < 0 && errno == EINVAL) m = memfd_create("husk-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);  // before 6.3
    if (m < 0) {
      error = errno;
      return;
    }
    size_t done = 0;
    while (done < sizeof kHuskExecBinary) {
      ssize_t n = write(m, kHuskExecBinary + done, sizeof kHuskExecBinary - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error = n < 0 ? errno : EIO;
        close(m);
        return;
      }
      done += static_cast<size_t>(n);
    }
    if (fcntl(m, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
      error = errno;
      close(m);
      return;
    }
    fd = m;
  });
  if (fd < 0) {
    errno = error;
    ThrowErrno(env, "memfd_create", "husk-exec");
  }
  return fd;
}

// Where this process's argv and environment strings live (fields 48-51 of
// /proc/self/stat: arg_start, arg_end, env_start, env_end), read once.
struct Areas {
  char* args = nullptr;
  size_t args_len = 0;
  char* env = nullptr;
  size_t environ_len = 0;
};

const Areas& ProcessAreas() {
  static std::once_flag once;
  static Areas areas;
  std::call_once(once, [] {
    FILE* f = fopen("/proc/self/stat", "re");
    if (f == nullptr) return;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char* p = strrchr(buf, ')');  // comm may hold spaces
    if (p == nullptr) return;
    unsigned long long field[52] = {};
    int index = 2;  // fields 3 (the state letter) and on follow comm
    for (p++; *p != '\0' && index < 51;) {
      while (*p == ' ') p++;
      if (*p == '\0') break;
      index++;
      field[index] = strtoull(p, nullptr, 10);
      while (*p != ' ' && *p != '\0') p++;
    }
    if (index < 51 || field[49] <= field[48] || field[51] <= field[50]) return;
    areas.args = reinterpret_cast<char*>(field[48]);
    areas.args_len = field[49] - field[48];
    areas.env = reinterpret_cast<char*>(field[50]);
    areas.environ_len = field[51] - field[50];
  });
  return areas;
}

}  // namespace

Napi::Value Launch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "launch(plan): plan must be an object");
  std::unique_ptr<Plan> plan = DecodePlan(env, info[0].As<Napi::Object>());
  ChildSetup setup = {};
  setup.exec_helper_fd = ExecHelperFd(env);
  const Areas& areas = ProcessAreas();
  setup.args_area = areas.args;
  setup.args_len = areas.args_len;
  setup.environ_area = areas.env;
  setup.environ_len = areas.environ_len;

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) ThrowErrno(env, "socketpair");

  // Block every signal across the clone so no Node handler runs in the child
  // before it has reset them (node-pty does the same around fork).
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
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && errno == ENOSYS && plan->cgroup_fd < 0) {
    how = "clone";
    pid = syscall(SYS_clone, plan->clone_flags | SIGCHLD, 0, 0, 0, 0);
  }
  if (pid == 0) {
    close(sv[0]);
    setup.sync_fd = sv[1];
    RunChild(plan->ops.data(), plan->ops.size(), setup);
  }
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  close(sv[1]);
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
