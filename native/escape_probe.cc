#include "escape_probe.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace husk {
namespace {

int g_leaked_fd = -1;  // planted by kEscapePlantFd, before the jail

// One output line, built in a static buffer (no allocation after clone).
char g_line[PATH_MAX + 256];
size_t g_line_len = 0;

void Add(const char* text, size_t len) noexcept {
  if (len > sizeof g_line - 2 - g_line_len) len = sizeof g_line - 2 - g_line_len;
  memcpy(g_line + g_line_len, text, len);
  g_line_len += len;
}
void Add(const char* text) { Add(text, strlen(text)); }

void AddNumber(long value) noexcept {
  char digits[24];
  int len = 0;
  unsigned long v = value < 0 ? static_cast<unsigned long>(-value) : static_cast<unsigned long>(value);
  do {
    digits[len++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  if (value < 0) Add("-");
  while (len > 0) Add(&digits[--len], 1);
}

const char* ErrnoName(int err) noexcept {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return nullptr;
  }
}

[[noreturn]] void Finish() noexcept {
  g_line[g_line_len++] = '\n';
  const char* p = g_line;
  size_t left = g_line_len;
  while (left > 0) {
    ssize_t n = write(1, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(3);
    p += n;
    left -= static_cast<size_t>(n);
  }
  _exit(0);
}

[[noreturn]] void Held(int err, const char* step) noexcept {
  Add("held ");
  if (const char* name = ErrnoName(err)) {
    Add(name);
  } else {
    Add("E");
    AddNumber(err);
  }
  Add(" ");
  Add(step);
  Finish();
}

[[noreturn]] void Escaped(const char* step, const char* evidence) noexcept {
  Add("escaped ");
  Add(step);
  Add(" ");
  Add(evidence);
  Finish();
}

// What execve would do to the fd table: every close-on-exec fd goes. The probe
// stands in for the program a runtime execs, so it must not see the runtime's
// own (close-on-exec) fds that a clone without exec still holds.
void CloseCloexecFds() noexcept {
  struct {
    uint64_t cur, max;
  } limit = {1024, 1024};
  syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, nullptr, &limit);
  uint64_t end = limit.max > (1u << 20) ? (1u << 20) : limit.max;
  if (end < 1024) end = 1024;  // fds opened before a lower limit was set
  for (uint64_t fd = 0; fd < end; fd++) {
    int flags = fcntl(static_cast<int>(fd), F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC)) close(static_cast<int>(fd));
  }
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);  // execve makes a non-setuid program dumpable again
}

// The marker's first word into g_marker. Returns 0, or an errno.
char g_marker[256];
int ReadMarker(int dirfd, const char* path) noexcept {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return errno;
  ssize_t n;
  do {
    n = read(fd, g_marker, sizeof g_marker - 1);
  } while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  close(fd);
  if (err != 0) return err;
  size_t len = static_cast<size_t>(n) < sizeof g_marker ? static_cast<size_t>(n) : sizeof g_marker - 1;
  g_marker[len] = '\0';
  for (size_t i = 0; i < len; i++) {
    if (g_marker[i] == '\n' || g_marker[i] == ' ') g_marker[i] = '\0';
  }
  if (g_marker[0] == '\0') strcpy(g_marker, "(empty)");
  return 0;
}

const char* Relative(const char* path) noexcept {
  while (*path == '/') path++;
  return *path == '\0' ? "." : path;
}

// "/proc/<pid>/root<marker>" (pid < 0: "self") into buf, PATH_MAX bytes.
const char* ProcRootPath(char* buf, long pid, const char* marker) noexcept {
  size_t saved = g_line_len;
  g_line_len = 0;
  Add("/proc/");
  if (pid >= 0) AddNumber(pid);
  else Add("self");
  Add("/root");
  Add(marker);
  size_t len = g_line_len < PATH_MAX - 1 ? g_line_len : PATH_MAX - 1;
  memcpy(buf, g_line, len);
  buf[len] = '\0';
  g_line_len = saved;
  return buf;
}

// The classic: chroot into a subdirectory while the cwd stays where it is
// (chroot moves no cwd), then ".." from there climbs above the new root, as
// only the root the walk started from stops it; chroot(".") makes that home.
[[noreturn]] void Classic(const char* marker) noexcept {
  const char* inner = "/husk-escape-lab";
  if (mkdir(inner, 0700) < 0 && errno != EEXIST) {
    int mkdir_err = errno;
    // A read-only root: any existing directory below / will do.
    static const char* fallbacks[] = {"/tmp", "/dev", "/proc", "/sys", "/etc"};
    inner = nullptr;
    for (const char* dir : fallbacks) {
      struct stat st;
      if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        inner = dir;
        break;
      }
    }
    if (inner == nullptr) Held(mkdir_err, "mkdir");
  }
  if (chdir("/") < 0) Held(errno, "chdir-root");
  if (chroot(inner) < 0) Held(errno, "chroot-subdir");
  for (int i = 0; i < 64; i++) {
    if (chdir("..") < 0) Held(errno, "chdir-dotdot");
  }
  if (chroot(".") < 0) Held(errno, "chroot-dot");
  if (int err = ReadMarker(AT_FDCWD, marker)) Held(err, "open-marker");
  Escaped("chroot-dotdot", g_marker);
}

[[noreturn]] void LeakedFd(const char* marker) noexcept {
  if (g_leaked_fd < 0) Held(EBADF, "leaked-fd");
  if (fcntl(g_leaked_fd, F_GETFD) < 0) Held(errno, "leaked-fd");
  if (fchdir(g_leaked_fd) < 0) Held(errno, "fchdir");
  // The planted directory is the host's "/": the marker is relative to it.
  if (int err = ReadMarker(AT_FDCWD, Relative(marker))) Held(err, "open-marker");
  Escaped("fchdir-leaked-fd", g_marker);
}

// A procfs to work with: the jail's own /proc, or a fresh one if the jail has
// none and may mount it. Returns true when this probe mounted it (to undo).
bool EnsureProc() noexcept {
  struct stat st;
  if (stat("/proc/self", &st) == 0) return false;
  if (mkdir("/proc", 0555) < 0 && errno != EEXIST) Held(errno, "mkdir-proc");
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) Held(errno, "mount-proc");
  return true;
}

// /proc/<pid>/root is a "magic link" to that process's root, whatever this
// process's own root is: a procfs that shows a host process is a way out.
[[noreturn]] void ProcRoot(const char* marker, long host_pid) noexcept {
  bool mounted = EnsureProc();
  char path[PATH_MAX];
  int err = ReadMarker(AT_FDCWD, ProcRootPath(path, host_pid, marker));
  const char* step = "proc-hostpid-root";
  if (err != 0) {
    int err1 = ReadMarker(AT_FDCWD, ProcRootPath(path, 1, marker));
    if (err1 == 0) {
      err = 0;
      step = "proc-1-root";
    }
  }
  if (mounted) umount2("/proc", MNT_DETACH);
  if (err != 0) Held(err, "open-proc-pid-root");
  Escaped(step, g_marker);
}

// Joining a mount namespace (even one's own) sets root and cwd to the root of
// that namespace: a chroot without a mount namespace of its own is undone at
// once; a --no-pivot jail (MS_MOVE + chroot) still has the host's root beneath
// the rootfs once the rootfs mount is detached; after pivot_root with the old
// root detached, the namespace's root is the rootfs itself.
[[noreturn]] void MountNs(const char* marker, int64_t lab_mntns_inode) noexcept {
  bool mounted = EnsureProc();
  int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  int open_err = errno;
  if (mounted) umount2("/proc", MNT_DETACH);
  if (ns < 0) Held(open_err, "open-ns-mnt");
  struct stat st;
  if (fstat(ns, &st) < 0) Held(errno, "fstat-ns-mnt");
  // Never in the lab's (the host's) own mount namespace: there "/" is the host's.
  if (static_cast<int64_t>(st.st_ino) != lab_mntns_inode) umount2("/", MNT_DETACH);
  if (setns(ns, CLONE_NEWNS) < 0) Held(errno, "setns-mnt");
  if (int err = ReadMarker(AT_FDCWD, marker)) Held(err, "open-marker");
  Escaped("setns-mnt", g_marker);
}

}  // namespace

int RunEscapeProbe(const EscapeProbeOp& op) noexcept {
  if (op.probe == kEscapePlantFd) {
    int fd = open(op.path, O_RDONLY | O_DIRECTORY);  // no O_CLOEXEC: that is the leak
    if (fd < 0) return -1;
    g_leaked_fd = fd;
    return 0;
  }
  CloseCloexecFds();
  const char* marker = op.path;
  switch (op.probe) {
    case kEscapeClassic: Classic(marker);
    case kEscapeLeakedFd: LeakedFd(marker);
    case kEscapeProcRoot: ProcRoot(marker, static_cast<long>(op.host_pid));
    case kEscapeMountNs: MountNs(marker, op.host_mount_ns_inode);
    default: Held(EINVAL, "unknown-attempt");
  }
}

}  // namespace husk
