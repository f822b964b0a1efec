#include "launch.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "child.h"
#include "errors.h"
#include "plan_decode.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

namespace husk {

Napi::Value Launch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "launch(plan): plan must be an object");
  std::unique_ptr<Plan> plan = DecodePlan(env, info[0].As<Napi::Object>());

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
    RunChild(plan->ops.data(), plan->ops.size(), sv[1]);
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
