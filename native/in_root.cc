// File operations confined to a directory fd, for unpacking image layers (tars
// written by strangers) and reading an image's own files: every path is resolved
// by the kernel inside the root (openat2 RESOLVE_IN_ROOT), so an absolute path,
// "..", or a symlink can never lead outside it. The entry's parent is resolved
// with RESOLVE_NO_SYMLINKS as well: a layer may not write through a symlink
// (its own or one planted earlier), the error is ELOOP. The last component is
// never followed (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, l*xattr).
#include "in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errors.h"

namespace husk {
namespace {

constexpr uint64_t kParentResolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
constexpr uint64_t kFollowResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

long Openat2(int dirfd, const char* path, uint64_t flags, uint64_t resolve, mode_t mode = 0) {
  struct open_how how = {};
  how.flags = flags | O_CLOEXEC;
  how.mode = mode;
  how.resolve = resolve;
  return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

int64_t Int64Arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().Int64Value();
}

std::string StrArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  std::string s = info[i].As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) throw Napi::TypeError::New(info.Env(), std::string(name) + " contains a NUL byte");
  return s;
}

// An fd closed on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// The parent directory of `path` (relative to the root, no symlink on the way)
// as an O_PATH fd, and its last component in *leaf. Throws on a path whose last
// component is empty, "." or "..".
int OpenParent(Napi::Env env, int root, const std::string& path, std::string* leaf) {
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  *leaf = slash == std::string::npos ? path : path.substr(slash + 1);
  if (dir.empty()) dir = ".";
  if (leaf->empty() || *leaf == "." || *leaf == "..") throw SystemError(env, EINVAL, "openat2", path.c_str());
  long fd = Openat2(root, dir.c_str(), O_PATH | O_DIRECTORY, kParentResolve);
  if (fd < 0) ThrowErrno(env, "openat2", dir.c_str());
  return static_cast<int>(fd);
}

// "/proc/self/fd/N/leaf": the entry, reached through its (already confined)
// parent, for calls that only take a path (lsetxattr, lgetxattr).
std::string ThroughFd(int dirfd, const std::string& leaf) {
  return "/proc/self/fd/" + std::to_string(dirfd) + "/" + leaf;
}

// inRootMkdir(root, path, mode): an existing directory is fine (tars repeat them).
Napi::Value InRootMkdir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StrArg(info, 1, "path"), leaf;
  Fd parent(OpenParent(env, IntArg(info, 0, "root"), path, &leaf));
  if (mkdirat(parent.fd, leaf.c_str(), static_cast<mode_t>(IntArg(info, 2, "mode"))) < 0) {
    struct stat st;
    if (errno == EEXIST && fstatat(parent.fd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISDIR(st.st_mode)) return env.Undefined();
      // Something else is in the way: a symlink would be followed by the entries beneath.
      errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
    }
    ThrowErrno(env, "mkdirat", path.c_str());
  }
  return env.Undefined();
}

// Removes a non-directory at path, if any (a later tar entry replaces an earlier one).
void RemoveNonDir(Napi::Env env, int parent, const std::string& leaf, const std::string& path) {
  struct stat st;
  if (fstatat(parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return;
  if (S_ISDIR(st.st_mode)) throw SystemError(env, EISDIR, "unlinkat", path.c_str());
  if (unlinkat(parent, leaf.c_str(), 0) < 0) ThrowErrno(env, "unlinkat", path.c_str());
}

// inRootCreate(root, path, mode) -> fd open for writing on a new regular file.
Napi::Value InRootCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StrArg(info, 1, "path"), leaf;
  Fd parent(OpenParent(env, IntArg(info, 0, "root"), path, &leaf));
  RemoveNonDir(env, parent.fd, leaf, path);
  int fd = openat(parent.fd, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  static_cast<mode_t>(IntArg(info, 2, "mode")));
  if (fd < 0) ThrowErrno(env, "openat", path.c_str());
  return Napi::Number::New(env, fd);
}

// inRootSymlink(root, path, target): the target is stored as given, never followed here.
Napi::Value InRootSymlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StrArg(info, 1, "path"), target = StrArg(info, 2, "target"), leaf;
  Fd parent(OpenParent(env, IntArg(info, 0, "root"), path, &leaf));
  RemoveNonDir(env, parent.fd, leaf, path);
  if (symlinkat(target.c_str(), parent.fd, leaf.c_str()) < 0) ThrowErrno(env, "symlinkat", path.c_str());
  return env.Undefined();
}

// inRootLink(root, path, existing): a hard link to an entry of the same root
// (the existing entry itself, even a symlink, is not followed).
Napi::Value InRootLink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int root = IntArg(info, 0, "root");
  std::string path = StrArg(info, 1, "path"), existing = StrArg(info, 2, "existing"), leaf;
  long target = Openat2(root, existing.c_str(), O_PATH | O_NOFOLLOW, kParentResolve);
  if (target < 0) ThrowErrno(env, "openat2", existing.c_str());
  Fd target_fd(static_cast<int>(target));
  struct stat st;
  if (fstat(target_fd.fd, &st) == 0 && S_ISDIR(st.st_mode)) throw SystemError(env, EPERM, "linkat", existing.c_str(), path.c_str());
  Fd parent(OpenParent(env, root, path, &leaf));
  RemoveNonDir(env, parent.fd, leaf, path);
  if (linkat(target_fd.fd, "", parent.fd, leaf.c_str(), AT_EMPTY_PATH) < 0) ThrowErrno(env, "linkat", existing.c_str(), path.c_str());
  return env.Undefined();
}

// inRootMknod(root, path, mode, major, minor): FIFOs, and overlay whiteouts (char 0:0).
Napi::Value InRootMknod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StrArg(info, 1, "path"), leaf;
  Fd parent(OpenParent(env, IntArg(info, 0, "root"), path, &leaf));
  RemoveNonDir(env, parent.fd, leaf, path);
  dev_t dev = makedev(static_cast<unsigned>(IntArg(info, 3, "major")), static_cast<unsigned>(IntArg(info, 4, "minor")));
  if (mknodat(parent.fd, leaf.c_str(), static_cast<mode_t>(IntArg(info, 2, "mode")), dev) < 0) ThrowErrno(env, "mknodat", path.c_str());
  return env.Undefined();
}

// inRootSetMeta(root, path, uid, gid, mode, mtimeSec, mtimeNsec): owner, then the
// mode (chown clears setuid bits, so the mode comes after), then the times. The
// mode is skipped for symlinks (Linux has none).
Napi::Value InRootSetMeta(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StrArg(info, 1, "path"), leaf;
  Fd parent(OpenParent(env, IntArg(info, 0, "root"), path, &leaf));
  uid_t uid = static_cast<uid_t>(Int64Arg(info, 2, "uid"));
  gid_t gid = static_cast<gid_t>(Int64Arg(info, 3, "gid"));
  if (fchownat(parent.fd, leaf.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0) ThrowErrno(env, "fchownat", path.c_str());
  struct stat st;
  if (fstatat(parent.fd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) ThrowErrno(env, "fstatat", path.c_str());
  if (!S_ISLNK(st.st_mode) && fchmodat(parent.fd, leaf.c_str(), static_cast<mode_t>(IntArg(info, 4, "mode")), 0) < 0) {
    ThrowErrno(env, "fchmodat", path.c_str());
  }
  struct timespec times[2];
  times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(Int64Arg(info, 5, "mtimeSec"));
  times[0].tv_nsec = times[1].tv_nsec = static_cast<long>(Int64Arg(info, 6, "mtimeNsec"));
  if (utimensat(parent.fd, leaf.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) ThrowErrno(env, "utimensat", path.c_str());
  return env.Undefined();
}

// inRootSetXattr(root, path, name, value: Buffer): on the entry itself, never a symlink's target.
Napi::Value InRootSetXattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StrArg(info, 1, "path"), name = StrArg(info, 2, "name"), leaf;
  if (!info[3].IsBuffer()) throw Napi::TypeError::New(env, "value must be a Buffer");
  Napi::Buffer<char> value = info[3].As<Napi::Buffer<char>>();
  Fd parent(OpenParent(env, IntArg(info, 0, "root"), path, &leaf));
  std::string through = ThroughFd(parent.fd, leaf);
  if (lsetxattr(through.c_str(), name.c_str(), value.Data(), value.Length(), 0) < 0) ThrowErrno(env, "lsetxattr", path.c_str(), name.c_str());
  return env.Undefined();
}

// inRootOpen(root, path) -> an O_RDONLY fd on a file of the root, symlinks
// followed the way the container would see them (within the root).
Napi::Value InRootOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StrArg(info, 1, "path");
  long fd = Openat2(IntArg(info, 0, "root"), path.c_str(), O_RDONLY, kFollowResolve);
  if (fd < 0) ThrowErrno(env, "openat2", path.c_str());
  return Napi::Number::New(env, static_cast<double>(fd));
}

// lgetxattr(path, name) -> Buffer, or null when the entry has no such attribute.
Napi::Value Lgetxattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StrArg(info, 0, "path"), name = StrArg(info, 1, "name");
  char buf[4096];
  ssize_t n = lgetxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  if (n < 0) {
    if (errno == ENODATA || errno == ENOTSUP) return env.Null();
    ThrowErrno(env, "lgetxattr", path.c_str(), name.c_str());
  }
  return Napi::Buffer<char>::Copy(env, buf, static_cast<size_t>(n));
}

}  // namespace

void InitInRoot(Napi::Env env, Napi::Object exports) {
  exports.Set("inRootMkdir", Napi::Function::New(env, InRootMkdir, "inRootMkdir"));
  exports.Set("inRootCreate", Napi::Function::New(env, InRootCreate, "inRootCreate"));
  exports.Set("inRootSymlink", Napi::Function::New(env, InRootSymlink, "inRootSymlink"));
  exports.Set("inRootLink", Napi::Function::New(env, InRootLink, "inRootLink"));
  exports.Set("inRootMknod", Napi::Function::New(env, InRootMknod, "inRootMknod"));
  exports.Set("inRootSetMeta", Napi::Function::New(env, InRootSetMeta, "inRootSetMeta"));
  exports.Set("inRootSetXattr", Napi::Function::New(env, InRootSetXattr, "inRootSetXattr"));
  exports.Set("inRootOpen", Napi::Function::New(env, InRootOpen, "inRootOpen"));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr, "lgetxattr"));
}

}  // namespace husk
