#include "copy_up.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

namespace husk {
namespace {

constexpr int kMaxDepth = 64;

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

char g_data[64 * 1024];   // file contents in transit
char g_link[PATH_MAX];    // a symlink's target in transit

// Owner, then mode (chown clears set-id bits), then times: the entry `name` of dir.
int CopyAttributes(int dir, const char* name, const struct stat& st) noexcept {
  if (fchownat(dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) return -1;
  if (!S_ISLNK(st.st_mode) && fchmodat(dir, name, st.st_mode & 07777, 0) < 0) return -1;
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  return utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW);
}

int CopyFile(int from_dir, int to_dir, const char* name) noexcept {
  int in = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) return -1;
  int out = openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) {
    int saved = errno;
    close(in);
    errno = saved;
    return -1;
  }
  int rc = 0;
  for (;;) {
    ssize_t n = read(in, g_data, sizeof g_data);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      rc = static_cast<int>(n);
      break;
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(out, g_data + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        rc = -1;
        break;
      }
      done += w;
    }
    if (rc < 0) break;
  }
  int saved = errno;
  close(in);
  close(out);
  errno = saved;
  return rc;
}

int CopyDir(int from_dir, int to_dir, int depth) noexcept;

int CopyEntry(int from_dir, int to_dir, const char* name, int depth) noexcept {
  struct stat st;
  if (fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return -1;
  switch (st.st_mode & S_IFMT) {
    case S_IFDIR: {
      if (mkdirat(to_dir, name, 0700) < 0) return -1;
      int from = openat(from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (from < 0) return -1;
      int to = openat(to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (to < 0) {
        int saved = errno;
        close(from);
        errno = saved;
        return -1;
      }
      int rc = CopyDir(from, to, depth + 1);
      int saved = errno;
      close(from);
      close(to);
      errno = saved;
      if (rc < 0) return -1;
      break;  // attributes last: filling the directory changed its times
    }
    case S_IFREG:
      if (CopyFile(from_dir, to_dir, name) < 0) return -1;
      break;
    case S_IFLNK: {
      ssize_t n = readlinkat(from_dir, name, g_link, sizeof g_link - 1);
      if (n < 0) return -1;
      g_link[n] = '\0';
      if (symlinkat(g_link, to_dir, name) < 0) return -1;
      break;
    }
    default:  // devices, fifos, sockets
      if (mknodat(to_dir, name, st.st_mode, st.st_rdev) < 0) return -1;
      break;
  }
  return CopyAttributes(to_dir, name, st);
}

int CopyDir(int from_dir, int to_dir, int depth) noexcept {
  if (depth > kMaxDepth) {
    errno = ELOOP;
    return -1;
  }
  alignas(8) char buf[4096];
  for (;;) {
    long n = syscall(SYS_getdents64, from_dir, buf, sizeof buf);
    if (n < 0) return -1;
    if (n == 0) return 0;
    for (long pos = 0; pos < n;) {
      const auto* entry = reinterpret_cast<const LinuxDirent64*>(buf + pos);
      pos += entry->d_reclen;
      const char* name = entry->d_name;
      if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
      if (CopyEntry(from_dir, to_dir, name, depth) < 0) return -1;
    }
  }
}

}  // namespace

int CopyTree(int from_dir, int to_dir) noexcept { return CopyDir(from_dir, to_dir, 0); }

}  // namespace husk
