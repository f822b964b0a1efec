#include "syscalls.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "errors.h"
#include "fd_passing.h"
#include "unix_socket.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace husk {
namespace {

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

std::string StrArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

std::optional<std::string> OptStrArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return std::nullopt;
  return info[i].As<Napi::String>().Utf8Value();
}

const char* CStr(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

Napi::Value Unshare(const Napi::CallbackInfo& info) {
  if (unshare(IntArg(info, 0, "flags")) < 0) ThrowErrno(info.Env(), "unshare");
  return info.Env().Undefined();
}

Napi::Value Setns(const Napi::CallbackInfo& info) {
  if (setns(IntArg(info, 0, "fd"), info.Length() > 1 ? IntArg(info, 1, "nstype") : 0) < 0) {
    ThrowErrno(info.Env(), "setns");
  }
  return info.Env().Undefined();
}

Napi::Value Mount(const Napi::CallbackInfo& info) {
  auto source = OptStrArg(info, 0);
  std::string target = StrArg(info, 1, "target");
  auto fstype = OptStrArg(info, 2);
  unsigned long flags = info.Length() > 3 && info[3].IsNumber()
                            ? static_cast<unsigned long>(info[3].As<Napi::Number>().Int64Value())
                            : 0;
  auto data = OptStrArg(info, 4);
  if (mount(CStr(source), target.c_str(), CStr(fstype), flags, CStr(data)) < 0) {
    ThrowErrno(info.Env(), "mount", source ? source->c_str() : target.c_str(), source ? target.c_str() : nullptr);
  }
  return info.Env().Undefined();
}

Napi::Value Umount2(const Napi::CallbackInfo& info) {
  std::string target = StrArg(info, 0, "target");
  int flags = info.Length() > 1 ? IntArg(info, 1, "flags") : 0;
  if (umount2(target.c_str(), flags) < 0) ThrowErrno(info.Env(), "umount2", target.c_str());
  return info.Env().Undefined();
}

Napi::Value PivotRoot(const Napi::CallbackInfo& info) {
  std::string new_root = StrArg(info, 0, "newRoot");
  std::string put_old = StrArg(info, 1, "putOld");
  if (syscall(SYS_pivot_root, new_root.c_str(), put_old.c_str()) < 0) {
    ThrowErrno(info.Env(), "pivot_root", new_root.c_str(), put_old.c_str());
  }
  return info.Env().Undefined();
}

Napi::Value Chroot(const Napi::CallbackInfo& info) {
  std::string path = StrArg(info, 0, "path");
  if (chroot(path.c_str()) < 0) ThrowErrno(info.Env(), "chroot", path.c_str());
  return info.Env().Undefined();
}

Napi::Value Sethostname(const Napi::CallbackInfo& info) {
  std::string name = StrArg(info, 0, "name");
  if (sethostname(name.c_str(), name.size()) < 0) ThrowErrno(info.Env(), "sethostname", name.c_str());
  return info.Env().Undefined();
}

Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int pid = IntArg(info, 0, "pid");
  long fd = syscall(SYS_pidfd_open, pid, info.Length() > 1 ? IntArg(info, 1, "flags") : 0);
  if (fd < 0) ThrowErrno(info.Env(), "pidfd_open", std::to_string(pid).c_str());
  fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  if (syscall(SYS_pidfd_send_signal, IntArg(info, 0, "pidfd"), IntArg(info, 1, "signal"), nullptr, 0) < 0) {
    ThrowErrno(info.Env(), "pidfd_send_signal");
  }
  return info.Env().Undefined();
}

// _exit(2): the process ends now, without Node's teardown (the CLI's fast exit, src/cli/output.ts).
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  _exit(IntArg(info, 0, "code"));
}

Napi::Value CloseRange(const Napi::CallbackInfo& info) {
  unsigned first = static_cast<unsigned>(IntArg(info, 0, "first"));
  unsigned last = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : ~0U;
  unsigned flags = info.Length() > 2 ? static_cast<unsigned>(IntArg(info, 2, "flags")) : 0;
  if (syscall(SYS_close_range, first, last, flags) < 0) ThrowErrno(info.Env(), "close_range");
  return info.Env().Undefined();
}

// Capability sets as BigInts: { effective, permitted, inheritable }.
Napi::Value CapGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = info.Length() > 0 ? IntArg(info, 0, "pid") : 0;
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, pid};
  struct __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) < 0) ThrowErrno(env, "capget", std::to_string(pid).c_str());
  auto join = [](uint32_t lo, uint32_t hi) { return (static_cast<uint64_t>(hi) << 32) | lo; };
  Napi::Object sets = Napi::Object::New(env);
  sets.Set("effective", Napi::BigInt::New(env, join(data[0].effective, data[1].effective)));
  sets.Set("permitted", Napi::BigInt::New(env, join(data[0].permitted, data[1].permitted)));
  sets.Set("inheritable", Napi::BigInt::New(env, join(data[0].inheritable, data[1].inheritable)));
  return sets;
}

uint64_t BigIntArg(Napi::Object obj, const char* key) {
  bool lossless = false;
  return obj.Get(key).As<Napi::BigInt>().Uint64Value(&lossless);
}

// capSet(pid, sets): the kernel only lets a thread set its own (pid 0).
Napi::Value CapSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = IntArg(info, 0, "pid");
  Napi::Object sets = info[1].As<Napi::Object>();
  uint64_t eff = BigIntArg(sets, "effective"), perm = BigIntArg(sets, "permitted"),
           inh = BigIntArg(sets, "inheritable");
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, pid};
  struct __user_cap_data_struct data[2] = {};
  data[0] = {static_cast<uint32_t>(eff), static_cast<uint32_t>(perm), static_cast<uint32_t>(inh)};
  data[1] = {static_cast<uint32_t>(eff >> 32), static_cast<uint32_t>(perm >> 32), static_cast<uint32_t>(inh >> 32)};
  if (syscall(SYS_capset, &header, data) < 0) ThrowErrno(env, "capset", std::to_string(pid).c_str());
  return env.Undefined();
}

Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  std::string path = StrArg(info, 0, "path");
  if (mkfifo(path.c_str(), static_cast<mode_t>(IntArg(info, 1, "mode"))) < 0) {
    ThrowErrno(info.Env(), "mkfifo", path.c_str());
  }
  return info.Env().Undefined();
}

// flock(fd, operation) -> true, or false when LOCK_NB was given and the lock is held.
Napi::Value Flock(const Napi::CallbackInfo& info) {
  int op = IntArg(info, 1, "operation");
  if (flock(IntArg(info, 0, "fd"), op) < 0) {
    if (errno == EWOULDBLOCK && (op & LOCK_NB)) return Napi::Boolean::New(info.Env(), false);
    ThrowErrno(info.Env(), "flock");
  }
  return Napi::Boolean::New(info.Env(), true);
}

// sendFdToSocket(path, fd, name): connects to a unix socket and passes fd with
// SCM_RIGHTS, as runc does with --console-socket (the payload is the name).
Napi::Value SendFdToSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StrArg(info, 0, "path");
  int fd = IntArg(info, 1, "fd");
  std::string name = info.Length() > 2 ? StrArg(info, 2, "name") : std::string("/dev/ptmx");
  struct sockaddr_un addr;
  socklen_t len = FillUnixAddress(env, path, &addr, "connect");
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) ThrowErrno(env, "socket");
  if (connect(sock, reinterpret_cast<struct sockaddr*>(&addr), len) < 0) {
    int saved = errno;
    close(sock);
    errno = saved;
    ThrowErrno(env, "connect", path.c_str());
  }
  struct iovec iov = {const_cast<char*>(name.c_str()), name.size()};
  struct msghdr mh;
  FdControl control;
  PrepareFdMessage(&mh, &iov, &control, fd);
  SendMessageAndClose(env, sock, &mh, path);
  return env.Undefined();
}

// openTreeIdmapped(source, recursive, usernsFd, recursiveIdmap): a detached clone of
// the mount tree at source (open_tree OPEN_TREE_CLONE, AT_RECURSIVE for an rbind),
// idmapped with the user namespace usernsFd (mount_setattr MOUNT_ATTR_IDMAP, on every
// mount of the clone when recursiveIdmap). Returns its fd, for a child's move_mount.
Napi::Value OpenTreeIdmapped(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string source = StrArg(info, 0, "source");
  bool recursive = info[1].ToBoolean().Value();
  int userns_fd = IntArg(info, 2, "usernsFd");
  bool recursive_idmap = info[3].ToBoolean().Value();
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  int tree = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, source.c_str(), flags));
  if (tree < 0) ThrowErrno(env, "open_tree", source.c_str());
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  unsigned at = AT_EMPTY_PATH | (recursive_idmap ? AT_RECURSIVE : 0);
  if (syscall(SYS_mount_setattr, tree, "", at, &attr, sizeof attr) < 0) {
    int saved = errno;
    close(tree);
    errno = saved;
    ThrowErrno(env, "mount_setattr(MOUNT_ATTR_IDMAP)", source.c_str());
  }
  return Napi::Number::New(env, tree);
}

// setWindowSize(fd, rows, columns): TIOCSWINSZ on a pty, so the container's
// terminal follows the size of the caller's.
Napi::Value SetWindowSize(const Napi::CallbackInfo& info) {
  struct winsize size = {};
  size.ws_row = static_cast<unsigned short>(IntArg(info, 1, "rows"));
  size.ws_col = static_cast<unsigned short>(IntArg(info, 2, "columns"));
  if (ioctl(IntArg(info, 0, "fd"), TIOCSWINSZ, &size) < 0) ThrowErrno(info.Env(), "ioctl(TIOCSWINSZ)");
  return info.Env().Undefined();
}

void SetConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object c = Napi::Object::New(env);
#define HUSK_CONST(name) c.Set(#name, Napi::Number::New(env, static_cast<double>(name)))
  HUSK_CONST(CLONE_NEWNS); HUSK_CONST(CLONE_NEWUTS); HUSK_CONST(CLONE_NEWIPC);
  HUSK_CONST(CLONE_NEWUSER); HUSK_CONST(CLONE_NEWPID); HUSK_CONST(CLONE_NEWNET);
  HUSK_CONST(CLONE_NEWCGROUP); HUSK_CONST(CLONE_NEWTIME);
  HUSK_CONST(MS_RDONLY); HUSK_CONST(MS_NOSUID); HUSK_CONST(MS_NODEV); HUSK_CONST(MS_NOEXEC);
  HUSK_CONST(MS_SYNCHRONOUS); HUSK_CONST(MS_REMOUNT); HUSK_CONST(MS_MANDLOCK);
  HUSK_CONST(MS_DIRSYNC); HUSK_CONST(MS_NOSYMFOLLOW); HUSK_CONST(MS_NOATIME);
  HUSK_CONST(MS_NODIRATIME); HUSK_CONST(MS_BIND); HUSK_CONST(MS_MOVE); HUSK_CONST(MS_REC);
  HUSK_CONST(MS_SILENT); HUSK_CONST(MS_UNBINDABLE); HUSK_CONST(MS_PRIVATE); HUSK_CONST(MS_SLAVE);
  HUSK_CONST(MS_SHARED); HUSK_CONST(MS_RELATIME); HUSK_CONST(MS_STRICTATIME); HUSK_CONST(MS_LAZYTIME);
  HUSK_CONST(MNT_FORCE); HUSK_CONST(MNT_DETACH); HUSK_CONST(MNT_EXPIRE); HUSK_CONST(UMOUNT_NOFOLLOW);
  HUSK_CONST(CLOSE_RANGE_CLOEXEC); HUSK_CONST(CLOSE_RANGE_UNSHARE);
  HUSK_CONST(LOCK_SH); HUSK_CONST(LOCK_EX); HUSK_CONST(LOCK_NB); HUSK_CONST(LOCK_UN);
#undef HUSK_CONST
  exports.Set("constants", c);
}

}  // namespace

void InitSyscalls(Napi::Env env, Napi::Object exports) {
  exports.Set("unshare", Napi::Function::New(env, Unshare, "unshare"));
  exports.Set("setns", Napi::Function::New(env, Setns, "setns"));
  exports.Set("mount", Napi::Function::New(env, Mount, "mount"));
  exports.Set("umount2", Napi::Function::New(env, Umount2, "umount2"));
  exports.Set("pivotRoot", Napi::Function::New(env, PivotRoot, "pivotRoot"));
  exports.Set("chroot", Napi::Function::New(env, Chroot, "chroot"));
  exports.Set("sethostname", Napi::Function::New(env, Sethostname, "sethostname"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal, "pidfdSendSignal"));
  exports.Set("closeRange", Napi::Function::New(env, CloseRange, "closeRange"));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow, "exitNow"));
  exports.Set("capGet", Napi::Function::New(env, CapGet, "capGet"));
  exports.Set("capSet", Napi::Function::New(env, CapSet, "capSet"));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo, "mkfifo"));
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("setWindowSize", Napi::Function::New(env, SetWindowSize, "setWindowSize"));
  exports.Set("openTreeIdmapped", Napi::Function::New(env, OpenTreeIdmapped, "openTreeIdmapped"));
  exports.Set("sendFdToSocket", Napi::Function::New(env, SendFdToSocket, "sendFdToSocket"));
  SetConstants(env, exports);
}

}  // namespace husk
