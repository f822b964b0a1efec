#include "child.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <linux/sched.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "copy_up.h"
#ifdef HUSK_LAB_OPS
#include "escape_probe.h"  // the escape lab's addon only (binding.gyp husk_lab)
#endif
#include "exec_helper.h"
#include "seccomp_filter.h"
#include "fd_passing.h"
#include "sync_proto.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace husk {
namespace {

// The child's whole mutable state: static, so nothing is allocated after clone.
int g_sync = -1;     // our end of the sync socket (HUSK_EXEC_SYNC_FD)
int g_exec_helper = -1;  // the sealed memfd of husk-exec (HUSK_EXEC_HELPER_FD)
int g_root = -1;     // O_PATH fd of the rootfs (or "/" after pivot_root)
int g_gate = -1;     // the start gate (exec.fifo), opened O_RDWR
int g_op = -1;       // index of the op being run, reported with any failure
char g_payload[kSyncMaxPayload];  // last payload the parent sent with kSyncContinue
int g_payload_len = 0;
gid_t g_groups[NGROUPS_MAX];

constexpr int kHighFd = 900;  // where the runtime's own fds move, above any --preserve-fds
static_assert(HUSK_EXEC_SYNC_FD > kHighFd && HUSK_EXEC_HELPER_FD > kHighFd, "above the preserved fds");

// False when nobody listens any more (the runtime left after the start gate).
bool Send(uint32_t type, int32_t err, int32_t value) noexcept {
  SyncMsg msg{type, g_op, err, value};
  for (;;) {
    if (send(g_sync, &msg, sizeof msg, MSG_NOSIGNAL) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

void WriteStderr(const char* text) noexcept {
  size_t len = strlen(text);
  while (len > 0) {
    ssize_t n = write(2, text, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    len -= static_cast<size_t>(n);
  }
}

// A failure nobody can be told of over the sync socket (after the start gate,
// `create` is gone): say it on the container's stderr, as "husk: <what>: ENAME (why)".
void ReportOnStderr(const char* what, const char* detail, int err) noexcept {
  char number[12];
  int len = 0;
  unsigned value = static_cast<unsigned>(err);
  do {
    number[len++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  char digits[12];
  for (int i = 0; i < len; i++) digits[i] = number[len - 1 - i];
  digits[len] = '\0';
  const char* name = strerrorname_np(err);  // static strings, no locale: safe here
  const char* description = strerrordesc_np(err);
  WriteStderr("husk: ");
  WriteStderr(what);
  if (detail != nullptr) {
    WriteStderr(" ");
    WriteStderr(detail);
  }
  WriteStderr(": ");
  if (name != nullptr) {
    WriteStderr(name);
  } else {
    WriteStderr("errno ");
    WriteStderr(digits);
  }
  if (description != nullptr) {
    WriteStderr(" (");
    WriteStderr(description);
    WriteStderr(")");
  }
  WriteStderr("\n");
}

[[noreturn]] void Fail(int err) noexcept {
  if (!Send(kSyncError, err, 0)) ReportOnStderr("container process setup failed after start", nullptr, err);
  _exit(127);
}

// A failure whose cause is a status rather than an errno (a hook that exited non-zero).
[[noreturn]] void FailStatus(int err, int status) noexcept {
  if (!Send(kSyncError, err, status)) ReportOnStderr("a hook failed after start", nullptr, err);
  _exit(127);
}

inline void Check(long rc) noexcept {
  if (rc < 0) Fail(errno);
}

// Sends `msg`, with `fd` attached (SCM_RIGHTS) unless it is -1; false with errno set.
bool SendMsg(SyncMsg msg, int fd) noexcept {
  struct iovec iov = {&msg, sizeof msg};
  struct msghdr mh;
  FdControl control;
  PrepareFdMessage(&mh, &iov, &control, fd);
  if (fd < 0) {
    mh.msg_control = nullptr;
    mh.msg_controllen = 0;
  }
  while (sendmsg(g_sync, &mh, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

void SendFd(int fd, int32_t kind) noexcept {
  if (!SendMsg(SyncMsg{kSyncFd, g_op, 0, kind}, fd)) Fail(errno);
}

// Blocks until the parent says go on. A closed socket means the runtime is gone:
// the child leaves quietly, so a killed runtime leaves no half-made container.
void WaitContinue() noexcept {
  static char buf[sizeof(SyncMsg) + kSyncMaxPayload];
  for (;;) {
    ssize_t n = recv(g_sync, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < static_cast<ssize_t>(sizeof(SyncMsg))) _exit(1);
    SyncMsg msg;
    memcpy(&msg, buf, sizeof msg);
    if (msg.type != kSyncContinue) _exit(1);
    g_payload_len = static_cast<int>(n - sizeof(SyncMsg));
    memcpy(g_payload, buf + sizeof(SyncMsg), g_payload_len);
    return;
  }
}

// "/proc/self/fd/<fd>" into buf (32 bytes): mount(2) follows it to the object.
const char* FdPath(int fd, char* buf) noexcept {
  static const char prefix[] = "/proc/self/fd/";
  memcpy(buf, prefix, sizeof prefix - 1);
  char digits[12];
  int len = 0;
  do {
    digits[len++] = static_cast<char>('0' + fd % 10);
    fd /= 10;
  } while (fd > 0);
  char* p = buf + sizeof prefix - 1;
  while (len > 0) *p++ = digits[--len];
  *p = '\0';
  return buf;
}

long Openat2(int dirfd, const char* path, uint64_t flags, uint64_t resolve) noexcept {
  struct open_how how = {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = resolve;
  return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

const char* StripSlashes(const char* path) noexcept {
  while (*path == '/') path++;
  return *path == '\0' ? "." : path;
}

// One pass of OpenInRoot's creating walk over `work`. When it meets a symlink
// whose target does not exist yet, it rewrites `work` to go through that target
// (an absolute target counts from the rootfs) and sets *again.
int CreateWalk(char* work, int flags, bool create_dirs, bool create_file, bool* again) noexcept {
  *again = false;
  size_t len = strlen(work);
  int parent = static_cast<int>(fcntl(g_root, F_DUPFD_CLOEXEC, 0));
  if (parent < 0) return -1;
  size_t start = 0;
  while (start < len) {
    size_t end = start;
    while (end < len && work[end] != '/') end++;
    bool last = end == len;
    work[end] = '\0';
    const char* component = work + start;
    if (component[0] != '\0') {
      int want = last ? flags : O_PATH | O_DIRECTORY;
      int next = static_cast<int>(Openat2(g_root, work, want, kInRoot));
      if (next < 0 && errno == ENOENT) {
        int rc;
        if (last && create_file) {
          rc = openat(parent, component, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
          if (rc >= 0) close(rc);
        } else {
          rc = mkdirat(parent, component, 0755);
        }
        if (rc < 0 && errno == EEXIST) {
          // It exists but does not resolve: a dangling symlink. Go through its target.
          static char link[PATH_MAX];
          static char rewritten[PATH_MAX];
          ssize_t n = readlinkat(parent, component, link, sizeof link - 1);
          if (n > 0) {
            link[n] = '\0';
            const char* rest = last ? "" : work + end + 1;
            size_t pos = 0;
            auto append = [&](const char* text) {
              size_t add = strlen(text);
              if (pos + add + 1 >= sizeof rewritten) return false;
              memcpy(rewritten + pos, text, add);
              pos += add;
              rewritten[pos] = '\0';
              return true;
            };
            bool fits = true;
            if (link[0] != '/' && start > 0) {
              work[start - 1] = '\0';  // the parent's path
              fits = append(work) && append("/");
            }
            fits = fits && append(link) && (rest[0] == '\0' || (append("/") && append(rest)));
            close(parent);
            if (!fits) {
              errno = ENAMETOOLONG;
              return -1;
            }
            memcpy(work, StripSlashes(rewritten), strlen(StripSlashes(rewritten)) + 1);
            *again = true;
            return -1;
          }
        }
        if (rc < 0 && errno != EEXIST) {
          int saved = errno;
          close(parent);
          errno = saved;
          return -1;
        }
        next = static_cast<int>(Openat2(g_root, work, want, kInRoot));
      }
      if (next < 0) {
        int saved = errno;
        close(parent);
        errno = saved;
        return -1;
      }
      close(parent);
      parent = next;
    }
    if (!last) work[end] = '/';
    start = end + 1;
  }
  return parent;  // the last component, opened with `flags`
}

// Opens `path` inside the rootfs: symlinks (absolute ones included) and ".." are
// resolved as if the rootfs were "/", so nothing can lead outside it (runc's
// securejoin semantics). With create_dirs, missing components are made as
// directories (through dangling symlinks too, within the rootfs); with
// create_file the last one is made as an empty file. Returns -1 with errno set.
int OpenInRoot(const char* path, int flags, bool create_dirs, bool create_file) noexcept {
  path = StripSlashes(path);
  int fd = static_cast<int>(Openat2(g_root, path, flags, kInRoot));
  if (fd >= 0 || errno != ENOENT || !(create_dirs || create_file)) return fd;
  static char work[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof work) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(work, path, len + 1);
  for (int hops = 0; hops < 40; hops++) {  // 40: the kernel's own limit on symlinks in one walk
    bool again;
    fd = CreateWalk(work, flags, create_dirs, create_file, &again);
    if (!again) return fd;
  }
  errno = ELOOP;
  return -1;
}

// Resolves an op's path by its PathMode; returns the path to hand to the kernel.
// *fd_out receives an fd to close afterwards, or -1.
const char* ResolvePath(const char* path, PathMode mode, bool source_is_file, char* buf, int* fd_out) noexcept {
  *fd_out = -1;
  if (mode == PathMode::kAsIs) return path;
  bool create = mode == PathMode::kInRootMkdir || mode == PathMode::kInRootFile;
  bool as_file = mode == PathMode::kInRootFile || (mode == PathMode::kInRootMkdir && source_is_file);
  int fd = OpenInRoot(path, O_PATH, create && !as_file, create && as_file);
  if (fd < 0) Fail(errno);
  *fd_out = fd;
  return FdPath(fd, buf);
}

// Opens the parent directory of `path` inside the rootfs (creating it) and
// returns the last component in *base. `scratch` holds the split path.
int OpenParentInRoot(const char* path, char* scratch, const char** base) noexcept {
  path = StripSlashes(path);
  size_t len = strlen(path);
  if (len >= PATH_MAX) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(scratch, path, len + 1);
  char* slash = strrchr(scratch, '/');
  if (slash == nullptr) {
    *base = scratch;
    return static_cast<int>(fcntl(g_root, F_DUPFD_CLOEXEC, 0));
  }
  *slash = '\0';
  *base = slash + 1;
  return OpenInRoot(scratch, O_PATH | O_DIRECTORY, true, false);
}

// Mount flags the kernel locks on a mount (and keeps on a bind of it): a remount
// must repeat them or fail with EPERM in a user namespace, and would otherwise
// silently drop nosuid/nodev/noexec that the source had. statfs(2) itself, raw:
// glibc's statvfs is not async-signal-safe (it may read /proc/mounts).
unsigned long LockedFlags(const char* path) noexcept {
  // statfs f_flags bits (the kernel's ST_*, <sys/statvfs.h> names them).
  constexpr unsigned long kStNosuid = 2, kStNodev = 4, kStNoexec = 8, kStNoatime = 1024,
                          kStNodiratime = 2048, kStRelatime = 4096;
  struct statfs st;
  if (syscall(SYS_statfs, path, &st) < 0) return 0;
  const unsigned long have = static_cast<unsigned long>(st.f_flags);
  unsigned long flags = 0;
  if (have & kStNosuid) flags |= MS_NOSUID;
  if (have & kStNodev) flags |= MS_NODEV;
  if (have & kStNoexec) flags |= MS_NOEXEC;
  if (have & kStNoatime) flags |= MS_NOATIME;
  if (have & kStNodiratime) flags |= MS_NODIRATIME;
  if (have & kStRelatime) flags |= MS_RELATIME;
  return flags;
}

void DoMount(const MountOp& op) noexcept {
  const char* source = op.source;
  unsigned long flags = static_cast<unsigned long>(op.flags);
  bool source_is_file = false;
  char source_buf[32];
  int source_fd = -1;
  if (op.source_in_root && source != nullptr) {
    source_fd = OpenInRoot(source, O_PATH, false, false);
    if (source_fd < 0) Fail(errno);
    source = FdPath(source_fd, source_buf);
  }
  if ((flags & MS_BIND) && source != nullptr) {
    struct stat st;
    if (stat(source, &st) < 0) Fail(errno);
    source_is_file = !S_ISDIR(st.st_mode);
  }
  char target_buf[32];
  int target_fd;
  const char* target = ResolvePath(op.target, op.target_mode, source_is_file, target_buf, &target_fd);
  // tmpcopyup: hold the directory the mount will cover, to copy it into the new mount.
  int covered = -1;
  if (op.copy_up) {
    covered = static_cast<int>(openat(target_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (covered < 0) Fail(errno);
  }
  Check(mount(source, target, op.fstype, flags, op.data));
  if (op.copy_up) {
    int fresh = OpenInRoot(op.target, O_RDONLY | O_DIRECTORY, false, false);  // the new mount's root
    if (fresh < 0) Fail(errno);
    Check(CopyTree(covered, fresh));
    close(fresh);
    close(covered);
  }
  if (target_fd >= 0) close(target_fd);
  if (source_fd >= 0) close(source_fd);
}

// An idmapped bind: the runtime made the detached tree (tree_fd); attach it at the
// target, created as a file or a directory like the tree's root.
void DoMoveMount(const MoveMountOp& op) noexcept {
  int tree = static_cast<int>(op.tree_fd);
  struct stat st;
  if (fstat(tree, &st) < 0) Fail(errno);
  char buf[32];
  int target_fd;
  const char* target = ResolvePath(op.target, op.target_mode, !S_ISDIR(st.st_mode), buf, &target_fd);
  if (target_fd >= 0) {
    Check(syscall(SYS_move_mount, tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
    close(target_fd);
  } else {
    Check(syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH));
  }
  close(tree);
}

// An overlay mounted by the child itself (rootless: only a user namespace owning the mount
// namespace may), with the new mount API, as src/native overlay.cc does for the runtime:
// one lowerdir+ per layer (Linux 6.8+), else the joined lowerdir string at once.
void DoMountOverlay(const MountOverlayOp& op) noexcept {
  int fs = static_cast<int>(syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC));
  if (fs < 0) Fail(errno);
  bool plus = true;
  for (size_t i = 0; op.lowers[i] != nullptr; i++) {
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", op.lowers[i], 0) == 0) continue;
    if (i == 0 && errno == EINVAL) {
      plus = false;
      break;
    }
    Fail(errno);
  }
  if (!plus) Check(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", op.lowerdir_joined, 0));
  Check(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", op.upper, 0));
  Check(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", op.work, 0));
  for (size_t i = 0; op.options[i] != nullptr; i++) Check(syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, op.options[i], nullptr, 0));
  Check(syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0));
  int mnt = static_cast<int>(syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV));
  if (mnt < 0) Fail(errno);
  close(fs);
  Check(syscall(SYS_move_mount, mnt, "", AT_FDCWD, op.target, MOVE_MOUNT_F_EMPTY_PATH));
  close(mnt);
}

// Recursive mount attributes (rro, rnosuid...): mount_setattr on the mount now at
// the target (AT_RECURSIVE: and on every mount beneath it).
void DoMountSetattr(const MountSetattrOp& op) noexcept {
  int fd = OpenInRoot(op.target, O_PATH, false, false);
  if (fd < 0) Fail(errno);
  struct mount_attr attr = {};
  attr.attr_set = static_cast<uint64_t>(op.attr_set);
  attr.attr_clr = static_cast<uint64_t>(op.attr_clear);
  unsigned flags = AT_EMPTY_PATH | (op.recursive ? AT_RECURSIVE : 0);
  Check(syscall(SYS_mount_setattr, fd, "", flags, &attr, sizeof attr));
  close(fd);
}

void DoRemount(const RemountOp& op) noexcept {
  char buf[32];
  int fd;
  const char* target = ResolvePath(op.target, op.target_mode, false, buf, &fd);
  unsigned long flags = static_cast<unsigned long>(op.flags);
  unsigned long cleared = static_cast<unsigned long>(op.clear_flags);
  flags |= LockedFlags(target) & ~cleared;
  Check(mount(nullptr, target, nullptr, flags | MS_REMOUNT | MS_BIND, nullptr));
  if (fd >= 0) close(fd);
}

// maskedPaths: a directory gets an empty read-only tmpfs, anything else /dev/null.
void DoMask(const MaskOp& op) noexcept {
  int fd = OpenInRoot(op.path, O_PATH, false, false);
  if (fd < 0) {
    if (errno == ENOENT) return;
    Fail(errno);
  }
  struct stat st;
  if (fstat(fd, &st) < 0) Fail(errno);
  char buf[32];
  const char* target = FdPath(fd, buf);
  if (S_ISDIR(st.st_mode)) Check(mount("tmpfs", target, "tmpfs", MS_RDONLY, "size=0,mode=0555"));
  else Check(mount("/dev/null", target, nullptr, MS_BIND, nullptr));
  close(fd);
}

// readonlyPaths: bind the path onto itself, then remount that bind read-only.
void DoReadonly(const ReadonlyOp& op) noexcept {
  int fd = OpenInRoot(op.path, O_PATH, false, false);
  if (fd < 0) {
    if (errno == ENOENT) return;
    Fail(errno);
  }
  char buf[32];
  Check(mount(FdPath(fd, buf), FdPath(fd, buf), nullptr, MS_BIND | MS_REC, nullptr));
  close(fd);
  fd = OpenInRoot(op.path, O_PATH, false, false);  // now the new mount on top
  if (fd < 0) Fail(errno);
  const char* target = FdPath(fd, buf);
  Check(mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | LockedFlags(target), nullptr));
  close(fd);
}

void ReopenRoot() noexcept {
  if (g_root >= 0) close(g_root);
  g_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_root < 0) Fail(errno);
}

// pivot_root(".", "."): the rootfs becomes "/", the old root is stacked beneath
// it and then detached, so nothing of the host's tree stays reachable.
void DoPivotRoot() noexcept {
  Check(fchdir(g_root));
  Check(syscall(SYS_pivot_root, ".", "."));
  // Never let the detach propagate back to the host's mounts.
  Check(mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr));
  Check(umount2(".", MNT_DETACH));
  Check(chdir("/"));
  ReopenRoot();
}

// --no-pivot: move the rootfs over "/" and chroot into it (weaker: the old root
// is still in the mount namespace, below).
void DoMoveChroot() noexcept {
  Check(fchdir(g_root));
  Check(mount(".", "/", nullptr, MS_MOVE, nullptr));
  Check(chroot("."));
  Check(chdir("/"));
  ReopenRoot();
}

void WriteAll(int fd, const char* data, size_t len) noexcept {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      Fail(errno);
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

void DoWriteFile(const WriteFileOp& op) noexcept {
  int fd = open(op.path, O_WRONLY | O_CLOEXEC | (op.create ? O_CREAT | O_TRUNC : 0), 0644);
  if (fd < 0) Fail(errno);
  WriteAll(fd, op.content, strlen(op.content));
  Check(close(fd));
}

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

// linux.sysctl, once the rootfs is the root: a plain open of "/proc/sys/<file>" would follow
// a /proc that is a symlink, or a host directory bound over /proc, and write a host file.
// So: /proc reached without any symlink, a procfs (statfs on the fd itself), and the file
// beneath it without a symlink or a crossing into another mount. EXDEV: not that procfs.
void DoSysctl(const SysctlOp& op) noexcept {
  int proc = static_cast<int>(Openat2(g_root, "proc", O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
  if (proc < 0) Fail(errno);
  struct statfs st;
  if (syscall(SYS_fstatfs, proc, &st) < 0) Fail(errno);
  if (st.f_type != PROC_SUPER_MAGIC) Fail(EXDEV);
  static char path[PATH_MAX];
  static const char prefix[] = "sys/";
  size_t len = strlen(op.file);
  if (sizeof prefix + len > sizeof path) Fail(ENAMETOOLONG);
  memcpy(path, prefix, sizeof prefix - 1);
  memcpy(path + sizeof prefix - 1, op.file, len + 1);
  int fd = static_cast<int>(Openat2(proc, path, O_WRONLY, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV));
  if (fd < 0) Fail(errno);
  close(proc);
  WriteAll(fd, op.value, strlen(op.value));
  Check(close(fd));
}

void DoSetgroups(const SetgroupsOp& op) noexcept {
  if (op.gids_len > NGROUPS_MAX) Fail(EINVAL);
  for (size_t i = 0; i < op.gids_len; i++) g_groups[i] = static_cast<gid_t>(op.gids[i]);
  Check(syscall(SYS_setgroups, op.gids_len, g_groups));
}

void DoSetuser(const SetuserOp& op) noexcept {
  // Keep the permitted set across the uid change; the caps op sets it afterwards.
  Check(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
  Check(syscall(SYS_setresgid, op.gid, op.gid, op.gid));
  Check(syscall(SYS_setresuid, op.uid, op.uid, op.uid));
  Check(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0));
}

void DoBounding(const BoundingOp& op) noexcept {
  uint64_t keep = static_cast<uint64_t>(op.keep);
  for (int cap = 0; cap <= op.last_cap; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) Fail(errno);
  }
}

void DoCaps(const CapsOp& op) noexcept {
  uint64_t effective = static_cast<uint64_t>(op.effective);
  uint64_t permitted = static_cast<uint64_t>(op.permitted);
  uint64_t inheritable = static_cast<uint64_t>(op.inheritable);
  uint64_t ambient = static_cast<uint64_t>(op.ambient);
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(effective);
  data[1].effective = static_cast<uint32_t>(effective >> 32);
  data[0].permitted = static_cast<uint32_t>(permitted);
  data[1].permitted = static_cast<uint32_t>(permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(inheritable);
  data[1].inheritable = static_cast<uint32_t>(inheritable >> 32);
  Check(syscall(SYS_capset, &header, data));
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) Fail(errno);
  for (int cap = 0; cap < 64; cap++) {
    if (ambient & (1ULL << cap)) Check(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0));
  }
}

void DoRlimit(const RlimitOp& op) noexcept {
  struct rlimit64 {
    uint64_t cur, max;
  } limit;
  limit.cur = op.soft < 0 ? ~0ULL : static_cast<uint64_t>(op.soft);
  limit.max = op.hard < 0 ? ~0ULL : static_cast<uint64_t>(op.hard);
  Check(syscall(SYS_prlimit64, 0, op.resource, &limit, nullptr));
}

// The chdir into process.cwd; getcwd() answers "(unreachable)..." for a
// directory outside the root, which a chroot without pivot_root can allow.
void DoChdir(const ChdirOp& op) noexcept {
  Check(chdir(op.path));
  if (op.verify_in_root) {
    char cwd[PATH_MAX];
    if (syscall(SYS_getcwd, cwd, sizeof cwd) < 0) Fail(errno);
    if (cwd[0] != '/') Fail(EXDEV);
  }
}

// The pty of a process with a terminal: its size set before exec
// (process.consoleSize), and for the container's init also bound over
// /dev/console, as config-linux.md's default devices require.
void DoOpenPty(const OpenPtyOp& op) noexcept {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) Fail(errno);
  int unlock = 0;
  Check(ioctl(master, TIOCSPTLCK, &unlock));
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) Fail(errno);
  if (op.rows > 0 || op.columns > 0) {
    struct winsize size = {};
    size.ws_row = static_cast<unsigned short>(op.rows);
    size.ws_col = static_cast<unsigned short>(op.columns);
    Check(ioctl(slave, TIOCSWINSZ, &size));
  }
  if (op.console) {
    unsigned int number;
    Check(ioctl(master, TIOCGPTN, &number));
    char pts[32] = "/dev/pts/";
    char digits[12];
    int len = 0;
    do {
      digits[len++] = static_cast<char>('0' + number % 10);
      number /= 10;
    } while (number > 0);
    char* p = pts + 9;
    while (len > 0) *p++ = digits[--len];
    *p = '\0';
    // Mounted on an empty file (or the node already there, never opened: it could be
    // the host's console), and never through a symlink the rootfs put there.
    struct stat st;
    if (lstat("/dev/console", &st) < 0) {
      if (errno != ENOENT) Fail(errno);
      int created = open("/dev/console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
      if (created < 0) Fail(errno);
      close(created);
    } else if (S_ISLNK(st.st_mode)) {
      Fail(ELOOP);
    }
    Check(mount(pts, "/dev/console", nullptr, MS_BIND, nullptr));
  }
  SendFd(master, kFdPtyMaster);
  close(master);
  Check(ioctl(slave, TIOCSCTTY, 0));
  for (int fd = 0; fd < 3; fd++) Check(dup2(slave, fd));
  if (slave > 2) close(slave);
}

// process.scheduler: sched_setattr(2) has no libc wrapper; struct sched_attr as
// of Linux 5.3 (with the utilization clamps, left 0).
void DoSchedSetattr(const SchedSetattrOp& op) noexcept {
  struct {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
    uint32_t sched_util_min;
    uint32_t sched_util_max;
  } attr = {};
  attr.size = sizeof attr;
  attr.sched_policy = static_cast<uint32_t>(op.policy);
  attr.sched_flags = static_cast<uint64_t>(op.flags);
  attr.sched_nice = static_cast<int32_t>(op.nice);
  attr.sched_priority = static_cast<uint32_t>(op.priority);
  attr.sched_runtime = static_cast<uint64_t>(op.runtime);
  attr.sched_deadline = static_cast<uint64_t>(op.deadline);
  attr.sched_period = static_cast<uint64_t>(op.period);
  Check(syscall(SYS_sched_setattr, 0, &attr, 0));
}

// process.execCPUAffinity: the mask in a static cpu_set_t (CPU_SETSIZE CPUs).
void DoSchedSetaffinity(const SchedSetaffinityOp& op) noexcept {
  static cpu_set_t set;
  CPU_ZERO(&set);
  for (size_t i = 0; i < op.cpus_len; i++) {
    if (op.cpus[i] < 0 || op.cpus[i] >= CPU_SETSIZE) Fail(EINVAL);
    CPU_SET(static_cast<int>(op.cpus[i]), &set);
  }
  Check(syscall(SYS_sched_setaffinity, 0, sizeof set, &set));
}

// linux.memoryPolicy: set_mempolicy(2) with a node mask of kMaxNodes bits.
void DoSetMempolicy(const SetMempolicyOp& op) noexcept {
  constexpr int kMaxNodes = 1024;
  constexpr int kBits = 8 * sizeof(unsigned long);
  static unsigned long mask[kMaxNodes / kBits];
  memset(mask, 0, sizeof mask);
  for (size_t i = 0; i < op.nodes_len; i++) {
    if (op.nodes[i] < 0 || op.nodes[i] >= kMaxNodes) Fail(EINVAL);
    mask[op.nodes[i] / kBits] |= 1UL << (op.nodes[i] % kBits);
  }
  // maxnode counts one more than the mask's bits (the kernel's historic off-by-one);
  // no mask at all for the modes that take none.
  const unsigned long* nodes = op.nodes_len > 0 ? mask : nullptr;
  Check(syscall(SYS_set_mempolicy, op.mode, nodes, op.nodes_len > 0 ? kMaxNodes + 1 : 0));
}

void DoStdio(const StdioOp& op) noexcept {
  int moved[3] = {-1, -1, -1};
  for (int i = 0; i < 3; i++) {
    if (op.fds[i] >= 0) moved[i] = static_cast<int>(fcntl(static_cast<int>(op.fds[i]), F_DUPFD_CLOEXEC, kHighFd));
    if (op.fds[i] >= 0 && moved[i] < 0) Fail(errno);
  }
  for (int i = 0; i < 3; i++) {
    if (moved[i] < 0) continue;
    Check(dup2(moved[i], i));
    close(moved[i]);
  }
}

// Marks every fd from 3 up close-on-exec, except the first `preserve` ones
// (--preserve-fds). Those and stdio are made inheritable: Node (libuv) opens its
// own fds 0-2 close-on-exec, and the child inherits that flag with them.
void DoCloseFds(const CloseFdsOp& op) noexcept {
  int first = 3 + static_cast<int>(op.preserve);
  for (int fd = 0; fd < first; fd++) {
    if (fcntl(fd, F_SETFD, 0) < 0 && errno != EBADF) Fail(errno);
  }
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  for (int fd = first; fd < 65536; fd++) {
    if (fd != g_sync && fd != g_gate) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
}

void DoWaitGate() noexcept {
  char byte;
  for (;;) {
    ssize_t n = read(g_gate, &byte, 1);
    if (n == 1) break;
    if (n < 0 && errno == EINTR) continue;
    Fail(n < 0 ? errno : EPIPE);
  }
  close(g_gate);
  g_gate = -1;
}

// A hook run from inside the container (startContainer): state JSON on stdin,
// killed after its timeout (in seconds, 0 = none).
// The last exec, through husk-exec (native/exec_helper.h): execveat() of the sealed
// memfd, which execve()s `path`. Returns only on failure, with errno set; a failure
// of the helper's own execve is reported by the helper, over the sync socket.
constexpr size_t kMaxArgs = 32768;
char* g_helper_argv[kMaxArgs + 4];
char g_op_digits[12];

void ExecThroughHelper(const char* path, char* const* argv, char* const* envp) noexcept {
  size_t count = 0;
  while (argv[count] != nullptr) count++;
  if (count > kMaxArgs) {
    errno = E2BIG;
    return;
  }
  char digits[12];
  int len = 0;
  unsigned value = g_op < 0 ? 0 : static_cast<unsigned>(g_op);
  do {
    digits[len++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  for (int i = 0; i < len; i++) g_op_digits[i] = digits[len - 1 - i];
  g_op_digits[len] = '\0';
  static char marker[] = HUSK_EXEC_MARKER;
  g_helper_argv[0] = marker;
  g_helper_argv[1] = g_op_digits;
  g_helper_argv[2] = const_cast<char*>(path);
  for (size_t i = 0; i <= count; i++) g_helper_argv[3 + i] = argv[i];  // with the NULL
  // The helper reports on the sync socket, then makes it close-on-exec itself.
  if (fcntl(g_sync, F_SETFD, 0) < 0) return;
  syscall(SYS_execveat, g_exec_helper, "", g_helper_argv, envp, AT_EMPTY_PATH);
  int err = errno;
  fcntl(g_sync, F_SETFD, FD_CLOEXEC);
  errno = err;
}

void DoHook(const HookOp& op) noexcept {
  // Named before anything runs: a missing hook is its path's errno, not a status 127.
  if (access(op.path, X_OK) < 0) Fail(errno);
  int pipefd[2];
  Check(pipe2(pipefd, O_CLOEXEC));
  long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) Fail(errno);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // never outlives the init that waits for it
    dup2(pipefd[0], 0);
    ExecThroughHelper(op.path, op.args, op.env);
    (void)Send(kSyncError, errno, 0);
    _exit(127);
  }
  close(pipefd[0]);
  // A hook may exit without reading its stdin: that is EPIPE for us, never a SIGPIPE
  // that would kill the init and lose the hook's own status (Go's os/exec ignores it too).
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous;
  sigaction(SIGPIPE, &ignore, &previous);
  const char* data = g_payload;
  size_t left = static_cast<size_t>(g_payload_len);
  while (left > 0) {
    ssize_t n = write(pipefd[1], data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // EPIPE: the hook is gone or closed its stdin; its status says how it went
    data += n;
    left -= static_cast<size_t>(n);
  }
  close(pipefd[1]);
  sigaction(SIGPIPE, &previous, nullptr);
  struct timespec tick = {0, 2 * 1000 * 1000};
  long waited_ns = 0;
  int status = 0;
  for (;;) {
    pid_t done = waitpid(static_cast<pid_t>(pid), &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) Fail(errno);
    if (op.timeout > 0 && waited_ns >= op.timeout * 1000000000L) {
      kill(static_cast<pid_t>(pid), SIGKILL);
      waitpid(static_cast<pid_t>(pid), &status, 0);
      Fail(ETIMEDOUT);
    }
    nanosleep(&tick, nullptr);
    waited_ns += tick.tv_nsec;
  }
  if (status != 0) FailStatus(ECHILD, status);
}

// Looks `file` up in the PATH of the container's environment, as execvp does,
// into g_exec_path. Done before the start gate (as runc does) so that `create`,
// not a later `start`, reports a missing executable.
char g_exec_path[PATH_MAX];

void ResolveExec(const char* file, char* const* envp) noexcept {
  size_t file_len = strlen(file);
  if (file_len >= sizeof g_exec_path) Fail(ENAMETOOLONG);
  if (strchr(file, '/') != nullptr) {
    if (access(file, X_OK) < 0) Fail(errno);
    memcpy(g_exec_path, file, file_len + 1);
    return;
  }
  const char* path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char* const* e = envp; *e != nullptr; e++) {
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  }
  int saved = ENOENT;
  while (*path != '\0') {
    const char* end = strchr(path, ':');
    size_t dir_len = end ? static_cast<size_t>(end - path) : strlen(path);
    if (dir_len + 2 + file_len < sizeof g_exec_path) {
      size_t pos = dir_len;
      memcpy(g_exec_path, path, dir_len);
      if (pos == 0) g_exec_path[pos++] = '.';
      g_exec_path[pos++] = '/';
      memcpy(g_exec_path + pos, file, file_len + 1);
      struct stat st;
      if (stat(g_exec_path, &st) == 0 && S_ISREG(st.st_mode)) {
        if (access(g_exec_path, X_OK) == 0) return;
        saved = EACCES;
      }
    }
    if (end == nullptr) break;
    path = end + 1;
  }
  g_exec_path[0] = '\0';
  Fail(saved);
}

[[noreturn]] void DoExec(const ExecOp& op) noexcept {
  if (g_exec_path[0] == '\0') ResolveExec(op.file, op.env);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  ExecThroughHelper(g_exec_path, op.args, op.env);
  int err = errno;
  if (!Send(kSyncError, err, 0)) ReportOnStderr("exec", g_exec_path, err);
  _exit(127);
}

// After setns into a pid namespace (or unshare of a new one) only children enter it. As
// runc's nsexec does, the process that goes on with the plan is cloned with CLONE_PARENT:
// a sibling of this one, so a direct child of the runtime, which waits for it through its
// pidfd and signals it, and whose exit status an engine's subreaper gets once the runtime
// is gone. This intermediate reports it (pidfd and pid) and exits at once; the sibling
// waits until the runtime has reaped the intermediate and says go on, so nothing of the
// intermediate is left in the container, and nothing the sibling says can overtake it.
void DoCloneSibling() noexcept {
  int pidfd = -1;
  struct clone_args args = {};
  args.flags = CLONE_PARENT | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  // exit_signal stays 0 (clone3 insists): with CLONE_PARENT the sibling gets ours, SIGCHLD.
  long child = syscall(SYS_clone3, &args, sizeof args);
  if (child < 0 && errno == ENOSYS) child = syscall(SYS_clone, CLONE_PARENT, 0, 0, 0, 0);  // the runtime opens a pidfd
  if (child < 0) Fail(errno);
  if (child == 0) {
    WaitContinue();
    return;  // the sibling goes on with the plan
  }
  SyncMsg msg{kSyncSibling, g_op, 0, static_cast<int32_t>(child)};
  if (!SendMsg(msg, pidfd)) {
    kill(static_cast<pid_t>(child), SIGKILL);
    Fail(errno);
  }
  _exit(0);
}

// `lo` up in a new network namespace (runc does it with netlink): SIOCSIFFLAGS on a
// datagram socket of the namespace, a plain ioctl.
void DoLoopbackUp() noexcept {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Fail(errno);
  struct ifreq ifr = {};
  memcpy(ifr.ifr_name, "lo", 3);
  Check(ioctl(fd, SIOCGIFFLAGS, &ifr));
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  Check(ioctl(fd, SIOCSIFFLAGS, &ifr));
  close(fd);
}

void RunOp(const Op& op) noexcept {
  switch (op.kind) {
    case OpKind::kUnshare: Check(unshare(static_cast<int>(op.unshare.flags))); break;
    case OpKind::kSetns: {
      int fd = open(op.setns.path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) Fail(errno);
      Check(setns(fd, static_cast<int>(op.setns.nstype)));
      close(fd);
      break;
    }
    case OpKind::kSync: (void)Send(kSyncPoint, 0, static_cast<int32_t>(op.sync.point)); WaitContinue(); break;
    case OpKind::kEnterRootfs:
      Check(chdir(op.enter_rootfs.path));
      if (g_root >= 0) close(g_root);
      g_root = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (g_root < 0) Fail(errno);
      break;
    case OpKind::kMount: DoMount(op.mount); break;
    case OpKind::kRemount: DoRemount(op.remount); break;
    case OpKind::kMknod: {
      char scratch[PATH_MAX];
      const char* base;
      const MknodOp& node = op.mknod;
      int dir = OpenParentInRoot(node.path, scratch, &base);
      if (dir < 0) Fail(errno);
      if (mknodat(dir, base, static_cast<mode_t>(node.mode), static_cast<dev_t>(node.dev)) < 0 && errno != EEXIST) Fail(errno);
      if (node.uid >= 0) Check(fchownat(dir, base, static_cast<uid_t>(node.uid), static_cast<gid_t>(node.gid), AT_SYMLINK_NOFOLLOW));
      close(dir);
      break;
    }
    case OpKind::kSymlink: {
      char scratch[PATH_MAX];
      const char* base;
      int dir = OpenParentInRoot(op.symlink.path, scratch, &base);
      if (dir < 0) Fail(errno);
      if (symlinkat(op.symlink.target, dir, base) < 0 && errno != EEXIST) Fail(errno);
      close(dir);
      break;
    }
    case OpKind::kMkdir: {
      int fd = OpenInRoot(op.mkdir.path, O_PATH | O_DIRECTORY, true, false);
      if (fd < 0) Fail(errno);
      close(fd);
      break;
    }
    case OpKind::kMask: DoMask(op.mask); break;
    case OpKind::kReadonly: DoReadonly(op.readonly); break;
    case OpKind::kPivotRoot: DoPivotRoot(); break;
    case OpKind::kMoveChroot: DoMoveChroot(); break;
    case OpKind::kChroot:
      Check(chroot(op.chroot.path));
      if (op.chroot.chdir) Check(chdir("/"));
      break;
    case OpKind::kChdir: DoChdir(op.chdir); break;
    case OpKind::kSethostname: Check(sethostname(op.sethostname.name, strlen(op.sethostname.name))); break;
    case OpKind::kSetdomainname: Check(setdomainname(op.setdomainname.name, strlen(op.setdomainname.name))); break;
    case OpKind::kLoopbackUp: DoLoopbackUp(); break;
    case OpKind::kWriteFile: DoWriteFile(op.write_file); break;
    case OpKind::kSysctl: DoSysctl(op.sysctl); break;
    case OpKind::kRlimit: DoRlimit(op.rlimit); break;
    case OpKind::kSetgroups: DoSetgroups(op.setgroups); break;
    case OpKind::kSetuser: DoSetuser(op.setuser); break;
    case OpKind::kBounding: DoBounding(op.bounding); break;
    case OpKind::kCaps: DoCaps(op.caps); break;
    case OpKind::kNoNewPrivs: Check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)); break;
    case OpKind::kUmask: umask(static_cast<mode_t>(op.umask.mask)); break;
    case OpKind::kSetsid: Check(setsid()); break;
    case OpKind::kPdeathsig: Check(prctl(PR_SET_PDEATHSIG, op.pdeathsig.signal, 0, 0, 0)); break;
    case OpKind::kDumpable: Check(prctl(PR_SET_DUMPABLE, op.dumpable.value, 0, 0, 0)); break;
    case OpKind::kJoinSessionKeyring:
      // KEYCTL_JOIN_SESSION_KEYRING (1); a kernel without keys (ENOSYS) has nothing to share, as runc takes it.
      if (syscall(SYS_keyctl, 1, op.join_session_keyring.name) < 0 && errno != ENOSYS) Fail(errno);
      break;
    case OpKind::kOpenPty: DoOpenPty(op.open_pty); break;
    case OpKind::kPersonality: Check(syscall(SYS_personality, static_cast<unsigned long>(op.personality.persona))); break;
    case OpKind::kSchedSetattr: DoSchedSetattr(op.sched_setattr); break;
    // IOPRIO_WHO_PROCESS (1), this process (0).
    case OpKind::kIoprioSet: Check(syscall(SYS_ioprio_set, 1, 0, static_cast<int>(op.ioprio_set.value))); break;
    case OpKind::kSchedSetaffinity: DoSchedSetaffinity(op.sched_setaffinity); break;
    case OpKind::kSetMempolicy: DoSetMempolicy(op.set_mempolicy); break;
    case OpKind::kOpenGate: {
      int fd = open(op.open_gate.path, O_RDWR | O_CLOEXEC);
      if (fd < 0) Fail(errno);
      g_gate = static_cast<int>(fcntl(fd, F_DUPFD_CLOEXEC, kHighFd));
      if (g_gate < 0) Fail(errno);
      close(fd);
      break;
    }
    case OpKind::kWaitGate: DoWaitGate(); break;
    case OpKind::kHook: DoHook(op.hook); break;
    case OpKind::kStdio: DoStdio(op.stdio); break;
    case OpKind::kCloseFds: DoCloseFds(op.close_fds); break;
    case OpKind::kResolveExec: ResolveExec(op.resolve_exec.file, op.resolve_exec.env); break;
    case OpKind::kExec: DoExec(op.exec);
    case OpKind::kCloneSibling: DoCloneSibling(); break;
    case OpKind::kSeccomp: {
      int notify = InstallSeccompFilter(op.seccomp);
      Check(notify);
      // With SECCOMP_FILTER_FLAG_NEW_LISTENER seccomp(2) returned the notify fd:
      // the runtime hands it to the listener (linux.seccomp.listenerPath).
      if (op.seccomp.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
        SendFd(notify, kFdSeccompNotify);
        close(notify);
      }
      break;
    }
    case OpKind::kMoveMount: DoMoveMount(op.move_mount); break;
    case OpKind::kMountSetattr: DoMountSetattr(op.mount_setattr); break;
    case OpKind::kMountOverlay: DoMountOverlay(op.mount_overlay); break;
#ifdef HUSK_LAB_OPS
    case OpKind::kEscapeProbe: Check(RunEscapeProbe(op.escape_probe)); break;
#endif
  }
}

// dup3 onto `to` (close-on-exec) and close `fd`; -1 on failure.
int MoveFd(int fd, int to) noexcept {
  if (fd == to) return fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? -1 : fd;
  if (dup3(fd, to, O_CLOEXEC) < 0) return -1;
  close(fd);
  return to;
}

}  // namespace

void RunChild(const Op* ops, size_t count, const ChildSetup& setup) noexcept {
  // Signal hygiene (as node-pty): the parent blocked everything around clone;
  // reset every handler Node installed, then unblock.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  // Our end of the sync socket and the exec helper go where husk-exec expects them,
  // above any fd a caller may ask to preserve.
  g_sync = MoveFd(setup.sync_fd, HUSK_EXEC_SYNC_FD);
  g_exec_helper = MoveFd(setup.exec_helper_fd, HUSK_EXEC_HELPER_FD);
  if (g_sync < 0 || g_exec_helper < 0) _exit(126);
  umask(0);  // device nodes and directories get exactly the modes the plan says

  for (size_t i = 0; i < count; i++) {
    g_op = static_cast<int>(i);
    RunOp(ops[i]);
  }
  g_op = -1;
  Fail(ENOEXEC);  // a plan must end in exec
}

}  // namespace husk
