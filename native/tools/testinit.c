/*
 * husk-testinit: the one static binary integration tests put into an otherwise
 * empty rootfs (as /bin/testinit) and run as the container's process. Each
 * subcommand (argv[1]) looks at one thing from inside the container and prints
 * it plainly, so tests can compare it with what the config asked for.
 *
 * Conventions (tests rely on them):
 * - Exit 0 when the subcommand did what it was asked; otherwise a message on
 *   stderr ("testinit <cmd>: <what> <path>: <ERRNO> (<text>)") and exit 1
 *   (2 for a usage error).
 * - Probes whose answer may be a refusal (access, open-write, isatty,
 *   mknod-test) print the answer ("ok" or the errno name) and exit 0: being
 *   denied is the answer, not a failure of the tool.
 * - Output is line-based: one value, "key value" or "key=value" pairs, as each
 *   command's comment below says.
 *
 * Statically linked (no NSS lookups: no getpwnam), so it needs nothing from
 * the rootfs but itself.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *command_name = "testinit";

static const char *errno_name(int err) {
  const char *name = strerrorname_np(err);
  return name != NULL ? name : "EUNKNOWN";
}

/* Prints "testinit <cmd>: <message>: <ERRNO> (<text>)" and exits 1. */
__attribute__((noreturn, format(printf, 2, 3))) static void die_errno(int err, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "testinit %s: ", command_name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, ": %s (%s)\n", errno_name(err), strerror(err));
  exit(1);
}

__attribute__((noreturn, format(printf, 1, 2))) static void die_usage(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "testinit %s: ", command_name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(2);
}

static long parse_long(const char *text, const char *what) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') die_usage("%s: \"%s\" is not an integer", what, text);
  return value;
}

/* Seconds may be fractional or "inf". */
static double parse_seconds(const char *text) {
  char *end = NULL;
  double value = strtod(text, &end);
  if (end == text || *end != '\0' || value < 0) die_usage("\"%s\" is not a number of seconds", text);
  return value;
}

static void sleep_seconds(double seconds) {
  if (seconds > 1e9) {
    for (;;) pause();
  }
  struct timespec left = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads names from an open DIR (without . and ..), sorted; prints one a line. */
static void print_sorted_dir(DIR *dir, const char *label, int skip_fd) {
  size_t count = 0, capacity = 64;
  char **names = malloc(capacity * sizeof(char *));
  if (names == NULL) die_errno(ENOMEM, "malloc");
  for (;;) {
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (entry == NULL) {
      if (errno != 0) die_errno(errno, "readdir %s", label);
      break;
    }
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    if (skip_fd >= 0 && atoi(entry->d_name) == skip_fd) continue;
    if (count == capacity) {
      capacity *= 2;
      names = realloc(names, capacity * sizeof(char *));
      if (names == NULL) die_errno(ENOMEM, "realloc");
    }
    names[count++] = strdup(entry->d_name);
  }
  qsort(names, count, sizeof(char *), compare_strings);
  for (size_t i = 0; i < count; i++) printf("%s\n", names[i]);
}

static void cat_file(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die_errno(errno, "open %s", path);
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      die_errno(errno, "read %s", path);
    }
    if (n == 0) break;
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) die_errno(errno, "write stdout");
  }
  close(fd);
}

/* Reads a small file into a static buffer, without the trailing newline. */
static const char *read_trimmed(const char *path) {
  static char buf[4096];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die_errno(errno, "open %s", path);
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n < 0) die_errno(errno, "read %s", path);
  close(fd);
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
  return buf;
}

/* Prints the lines of FILE that start with PREFIX. */
static void grep_prefix(const char *path, const char *prefix) {
  FILE *file = fopen(path, "re");
  if (file == NULL) die_errno(errno, "open %s", path);
  char line[1024];
  while (fgets(line, sizeof line, file) != NULL) {
    if (strncmp(line, prefix, strlen(prefix)) == 0) fputs(line, stdout);
  }
  fclose(file);
}

static const char *file_type(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFDIR: return "directory";
    case S_IFLNK: return "symlink";
    case S_IFCHR: return "char";
    case S_IFBLK: return "block";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    default: return "unknown";
  }
}

/* type=<t> mode=<octal> uid=<n> gid=<n> size=<n> [rdev=<major>:<minor>] */
static void print_stat(const char *path, int follow) {
  struct stat st;
  if ((follow ? stat(path, &st) : lstat(path, &st)) != 0) die_errno(errno, "%s %s", follow ? "stat" : "lstat", path);
  printf("type=%s mode=%04o uid=%u gid=%u size=%lld", file_type(st.st_mode), (unsigned)(st.st_mode & 07777),
         (unsigned)st.st_uid, (unsigned)st.st_gid, (long long)st.st_size);
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) printf(" rdev=%u:%u", major(st.st_rdev), minor(st.st_rdev));
  printf("\n");
}

static const struct {
  const char *name;
  int resource;
} rlimit_names[] = {
    {"AS", RLIMIT_AS},           {"CORE", RLIMIT_CORE},       {"CPU", RLIMIT_CPU},
    {"DATA", RLIMIT_DATA},       {"FSIZE", RLIMIT_FSIZE},     {"LOCKS", RLIMIT_LOCKS},
    {"MEMLOCK", RLIMIT_MEMLOCK}, {"MSGQUEUE", RLIMIT_MSGQUEUE}, {"NICE", RLIMIT_NICE},
    {"NOFILE", RLIMIT_NOFILE},   {"NPROC", RLIMIT_NPROC},     {"RSS", RLIMIT_RSS},
    {"RTPRIO", RLIMIT_RTPRIO},   {"RTTIME", RLIMIT_RTTIME},   {"SIGPENDING", RLIMIT_SIGPENDING},
    {"STACK", RLIMIT_STACK},
};

static void print_limit(rlim_t value) {
  if (value == RLIM_INFINITY) printf("unlimited");
  else printf("%llu", (unsigned long long)value);
}

/* "soft hard", each a number or "unlimited". NAME: NOFILE or RLIMIT_NOFILE. */
static void cmd_rlimit(const char *name) {
  if (strncasecmp(name, "RLIMIT_", 7) == 0) name += 7;
  for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++) {
    if (strcasecmp(name, rlimit_names[i].name) != 0) continue;
    struct rlimit limit;
    if (getrlimit(rlimit_names[i].resource, &limit) != 0) die_errno(errno, "getrlimit %s", name);
    print_limit(limit.rlim_cur);
    printf(" ");
    print_limit(limit.rlim_max);
    printf("\n");
    return;
  }
  die_usage("unknown rlimit \"%s\"", name);
}

/* "<name> <inode>" per entry of /proc/self/ns, sorted by name. */
static void cmd_ns(void) {
  DIR *dir = opendir("/proc/self/ns");
  if (dir == NULL) die_errno(errno, "opendir /proc/self/ns");
  char *names[64];
  size_t count = 0;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL && count < 64) {
    if (entry->d_name[0] == '.') continue;
    names[count++] = strdup(entry->d_name);
  }
  qsort(names, count, sizeof(char *), compare_strings);
  for (size_t i = 0; i < count; i++) {
    char path[PATH_MAX], target[256];
    snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0) die_errno(errno, "readlink %s", path);
    target[n] = '\0';
    /* target looks like "pid:[4026531836]" */
    char *open_bracket = strchr(target, '[');
    char *close_bracket = strchr(target, ']');
    if (open_bracket == NULL || close_bracket == NULL) die_usage("unexpected link %s -> %s", path, target);
    *close_bracket = '\0';
    printf("%s %s\n", names[i], open_bracket + 1);
  }
  closedir(dir);
}

/* uid=<n> gid=<n> euid=<n> egid=<n> groups=<n,n,...> */
static void cmd_ids(void) {
  gid_t groups[NGROUPS_MAX];
  int count = getgroups(NGROUPS_MAX, groups);
  if (count < 0) die_errno(errno, "getgroups");
  printf("uid=%u gid=%u euid=%u egid=%u groups=", (unsigned)getuid(), (unsigned)getgid(), (unsigned)geteuid(),
         (unsigned)getegid());
  for (int i = 0; i < count; i++) printf("%s%u", i == 0 ? "" : ",", (unsigned)groups[i]);
  printf("\n");
}

/* Interface names of this net namespace, sorted, one a line. */
static void cmd_netdevs(void) {
  FILE *file = fopen("/proc/net/dev", "re");
  if (file == NULL) {
    /* without procfs, sysfs (if mounted in this net namespace) lists them */
    DIR *dir = opendir("/sys/class/net");
    if (dir == NULL) die_errno(errno, "open /proc/net/dev and /sys/class/net");
    print_sorted_dir(dir, "/sys/class/net", -1);
    closedir(dir);
    return;
  }
  char line[512];
  char *names[256];
  size_t count = 0;
  while (fgets(line, sizeof line, file) != NULL && count < 256) {
    char *colon = strchr(line, ':');
    if (colon == NULL) continue; /* the two header lines */
    *colon = '\0';
    char *name = line;
    while (*name == ' ') name++;
    names[count++] = strdup(name);
  }
  fclose(file);
  qsort(names, count, sizeof(char *), compare_strings);
  for (size_t i = 0; i < count; i++) printf("%s\n", names[i]);
}

static void on_sigterm_exit(int sig) {
  (void)sig;
  _exit(143);
}

static void set_signal(int sig, void (*handler)(int)) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  if (sigaction(sig, &action, NULL) != 0) die_errno(errno, "sigaction");
}

static pid_t *spawned = NULL;
static long spawned_count = 0;

static void on_sigterm_kill_children(int sig) {
  (void)sig;
  for (long i = 0; i < spawned_count; i++)
    if (spawned[i] > 0) kill(spawned[i], SIGKILL);
  _exit(143);
}

/* Forks N children that sleep SECONDS; prints "child <pid>" for each, then
 * waits for them. SIGTERM kills the children and exits 143. */
static void cmd_spawn(long n, double seconds) {
  if (n < 0 || n > 10000) die_usage("N must be 0..10000");
  spawned = calloc((size_t)n + 1, sizeof(pid_t));
  if (spawned == NULL) die_errno(ENOMEM, "calloc");
  set_signal(SIGTERM, on_sigterm_kill_children);
  fflush(stdout);
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) die_errno(errno, "fork (child %ld)", i);
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      set_signal(SIGTERM, SIG_DFL);
      sleep_seconds(seconds);
      _exit(0);
    }
    spawned[i] = pid;
    spawned_count = i + 1;
    printf("child %d\n", (int)pid);
  }
  fflush(stdout);
  for (long i = 0; i < n; i++) {
    while (waitpid(spawned[i], NULL, 0) < 0 && errno == EINTR) {
    }
  }
}

/* Forks up to N children (each waits until killed); prints
 * "forks=<succeeded> error=<ERRNO|none>", then kills and reaps them. */
static void cmd_forkbomb(long n) {
  if (n < 0) die_usage("N must be >= 0");
  pid_t *children = calloc((size_t)n + 1, sizeof(pid_t));
  if (children == NULL) die_errno(ENOMEM, "calloc");
  long forked = 0;
  int stop_errno = 0;
  fflush(stdout);
  for (; forked < n; forked++) {
    pid_t pid = fork();
    if (pid < 0) {
      stop_errno = errno;
      break;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      for (;;) pause();
    }
    children[forked] = pid;
  }
  for (long i = 0; i < forked; i++) kill(children[i], SIGKILL);
  for (long i = 0; i < forked; i++) {
    while (waitpid(children[i], NULL, 0) < 0 && errno == EINTR) {
    }
  }
  printf("forks=%ld error=%s\n", forked, stop_errno == 0 ? "none" : errno_name(stop_errno));
}

/* Allocates and touches MB megabytes; prints "hogged <MB>" and, if given,
 * holds the memory for SECONDS before exiting. */
static void cmd_hog(long megabytes, double hold_seconds) {
  if (megabytes < 0) die_usage("MB must be >= 0");
  size_t size = (size_t)megabytes * 1024 * 1024;
  if (size == 0) {
    printf("hogged 0\n");
    return;
  }
  /* mmap rather than malloc so the pages are really ours to touch */
  char *memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) die_errno(errno, "mmap %ld MB", megabytes);
  long page = sysconf(_SC_PAGESIZE);
  for (size_t offset = 0; offset < size; offset += (size_t)page) memory[offset] = 1;
  printf("hogged %ld\n", megabytes);
  fflush(stdout);
  if (hold_seconds > 0) sleep_seconds(hold_seconds);
}

static double monotonic_seconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void cmd_spin(double seconds) {
  double end = monotonic_seconds() + seconds;
  volatile unsigned long counter = 0;
  while (monotonic_seconds() < end) {
    for (int i = 0; i < 100000; i++) counter++;
  }
}

static int parse_access_mode(const char *mode) {
  int flags = 0;
  for (const char *c = mode; *c; c++) {
    switch (*c) {
      case 'r': case 'R': flags |= R_OK; break;
      case 'w': case 'W': flags |= W_OK; break;
      case 'x': case 'X': flags |= X_OK; break;
      case 'f': case 'F': break;
      default: die_usage("MODE is a combination of r, w, x or f (exists), not \"%s\"", mode);
    }
  }
  return flags == 0 ? F_OK : flags;
}

static void print_ok_or_errno(int ok, int err) { printf("%s\n", ok ? "ok" : errno_name(err)); }

/* Tries mknod of /dev/null's numbers (1:3) in DIR, then opening it:
 * "mknod <ok|ERRNO>" and, when created, "open <ok|ERRNO>". Removes it. */
static void cmd_mknod_test(const char *dir) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/testinit-mknod-%d", dir, (int)getpid());
  if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) != 0) {
    printf("mknod %s\n", errno_name(errno));
    return;
  }
  printf("mknod ok\n");
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  printf("open %s\n", fd >= 0 ? "ok" : errno_name(errno));
  if (fd >= 0) close(fd);
  if (unlink(path) != 0) die_errno(errno, "unlink %s", path);
}

/* Makes the device node PATH (TYPE c or b, MAJOR:MINOR), tries to open it for reading and
 * for writing, then removes it: "mknod=<ok|ERRNO> read=<ok|ERRNO> write=<ok|ERRNO>" (a
 * refused mknod leaves read and write "-"). The device cgroup answers EPERM; a driver with
 * nothing behind the numbers answers ENXIO or ENODEV, which means the cgroup let it through. */
static void cmd_dev_access(const char *path, const char *type, long major, long minor) {
  if (strcmp(type, "c") != 0 && strcmp(type, "b") != 0) die_usage("TYPE is c or b, not \"%s\"", type);
  mode_t mode = (type[0] == 'c' ? S_IFCHR : S_IFBLK) | 0666;
  if (mknod(path, mode, makedev((unsigned)major, (unsigned)minor)) != 0) {
    printf("mknod=%s read=- write=-\n", errno_name(errno));
    return;
  }
  int r = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  int r_err = errno;
  if (r >= 0) close(r);
  int w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  int w_err = errno;
  if (w >= 0) close(w);
  printf("mknod=ok read=%s write=%s\n", r >= 0 ? "ok" : errno_name(r_err), w >= 0 ? "ok" : errno_name(w_err));
  if (unlink(path) != 0) die_errno(errno, "unlink %s", path);
}

/* Lists the directory open at FD (inherited), sorted. */
static void cmd_read_fd_dir(long fd) {
  int copy = dup((int)fd);
  if (copy < 0) die_errno(errno, "dup fd %ld", fd);
  DIR *dir = fdopendir(copy);
  if (dir == NULL) die_errno(errno, "fdopendir fd %ld", fd);
  rewinddir(dir);
  char label[32];
  snprintf(label, sizeof label, "fd %ld", fd);
  print_sorted_dir(dir, label, -1);
  closedir(dir);
}

/* "<fd> <target>" per open fd, not counting the one used to list them. */
static void cmd_fds(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) die_errno(errno, "opendir /proc/self/fd");
  int own = dirfd(dir);
  long fds[1024];
  size_t count = 0;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL && count < 1024) {
    if (entry->d_name[0] == '.') continue;
    long fd = atol(entry->d_name);
    if (fd != own) fds[count++] = fd;
  }
  for (size_t i = 1; i < count; i++) /* insertion sort: fds are few */
    for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
      long t = fds[j];
      fds[j] = fds[j - 1];
      fds[j - 1] = t;
    }
  for (size_t i = 0; i < count; i++) {
    char path[64], target[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%ld", fds[i]);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0) snprintf(target, sizeof target, "?%s", errno_name(errno));
    else target[n] = '\0';
    printf("%ld %s\n", fds[i], target);
  }
  closedir(dir);
}

/* The classic chroot escape: chroot into a subdirectory while the cwd stays
 * outside it, climb with "..", chroot("."), then print the first line of PATH
 * as seen from wherever we ended up. Any refused step is an error (exit 1)
 * naming the step; a jail that holds makes PATH the container's own file. */
static void cmd_chroot_escape(const char *path) {
  char jail[] = "/tmp/.testinit-escape-XXXXXX";
  int made = mkdtemp(jail) != NULL;
  const char *inner = made ? jail : NULL;
  if (!made) {
    /* read-only /tmp: any existing directory below / will do */
    static const char *fallbacks[] = {"/proc", "/dev", "/sys", "/etc", "/bin"};
    for (size_t i = 0; i < sizeof fallbacks / sizeof fallbacks[0] && inner == NULL; i++) {
      struct stat st;
      if (stat(fallbacks[i], &st) == 0 && S_ISDIR(st.st_mode)) inner = fallbacks[i];
    }
    if (inner == NULL) die_errno(errno, "mkdtemp %s (and no other directory to use)", jail);
  }
  int original_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (original_root < 0) die_errno(errno, "open /");
  if (chdir("/") != 0) die_errno(errno, "chdir /");
  if (chroot(inner) != 0) {
    int err = errno;
    if (made) rmdir(jail);
    die_errno(err, "chroot %s", inner);
  }
  for (int i = 0; i < 256; i++)
    if (chdir("..") != 0) die_errno(errno, "chdir .. (step %d)", i);
  if (chroot(".") != 0) die_errno(errno, "chroot .");
  FILE *file = fopen(path, "re");
  int open_errno = errno;
  char line[4096] = "";
  if (file != NULL) {
    if (fgets(line, sizeof line, file) == NULL) line[0] = '\0';
    fclose(file);
  }
  /* back into the jail we started in, to remove the directory we made */
  if (fchdir(original_root) == 0 && chroot(".") == 0 && made) rmdir(jail);
  if (file == NULL) die_errno(open_errno, "open %s after the escape attempt", path);
  size_t len = strlen(line);
  if (len == 0 || line[len - 1] != '\n') printf("%s\n", line);
  else fputs(line, stdout);
}

/* NAME: dotted (net.ipv4.ip_forward) or a path below /proc/sys. */
static void cmd_sysctl(const char *name) {
  char path[PATH_MAX];
  if (name[0] == '/') snprintf(path, sizeof path, "%s", name);
  else {
    snprintf(path, sizeof path, "/proc/sys/%s", name);
    if (strchr(name, '/') == NULL)
      for (char *c = path + strlen("/proc/sys/"); *c; c++)
        if (*c == '.') *c = '/';
  }
  printf("%s\n", read_trimmed(path));
}

static void need_args(int argc, int count, const char *usage) {
  if (argc < count + 2) die_usage("usage: testinit %s %s", command_name, usage);
}

/* seccomp-listener SOCKET STATEFILE ERRNO: a seccomp agent, as runc's listenerPath
 * expects one. Listens on the unix socket SOCKET (prints "ready" once it does),
 * takes one connection's message (runtime-spec's containerProcessState JSON, the
 * notify fd attached with SCM_RIGHTS), writes the JSON to STATEFILE, then answers
 * one notification with -ERRNO, prints "notified nr=<syscall>" and exits (ERRNO 0:
 * exits once the message is written). */
static void cmd_seccomp_listener(const char *path, const char *state_file, int answer) {
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) die_errno(errno, "socket");
  struct sockaddr_un addr = {0};
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) die_usage("socket path too long");
  strcpy(addr.sun_path, path);
  if (bind(sock, (struct sockaddr *)&addr, sizeof addr) < 0) die_errno(errno, "bind %s", path);
  if (listen(sock, 1) < 0) die_errno(errno, "listen");
  printf("ready\n");
  fflush(stdout);
  int conn = accept4(sock, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0) die_errno(errno, "accept");
  static char data[65536];
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int))];
  } control;
  struct iovec iov = {data, sizeof data - 1};
  struct msghdr mh = {0};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.bytes;
  mh.msg_controllen = sizeof control.bytes;
  ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
  if (n < 0) die_errno(errno, "recvmsg");
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  if (cm == NULL || cm->cmsg_type != SCM_RIGHTS) die_usage("no fd came with the message");
  int notify;
  memcpy(&notify, CMSG_DATA(cm), sizeof notify);
  int out = open(state_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0 || write(out, data, (size_t)n) != n) die_errno(errno, "write %s", state_file);
  close(out);
  if (answer == 0) return; /* only the hand-over was asked for */
  struct seccomp_notif req;
  memset(&req, 0, sizeof req);
  while (ioctl(notify, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
    if (errno != EINTR) die_errno(errno, "ioctl SECCOMP_IOCTL_NOTIF_RECV");
    memset(&req, 0, sizeof req);
  }
  struct seccomp_notif_resp resp;
  memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.error = -answer;
  if (ioctl(notify, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) die_errno(errno, "ioctl SECCOMP_IOCTL_NOTIF_SEND");
  printf("notified nr=%d\n", req.data.nr);
}

static void usage_all(void) {
  fputs("usage: testinit COMMAND [ARGS]\n"
        "commands: true false exit echo cat write ls readlink stat lstat pid ppid hostname domainname\n"
        "  ns ids caps status rlimit cwd env printenv umask mounts netdevs isatty sleep\n"
        "  sleep-ignore-term spawn forkbomb hog spin access open-write mknod-test dev-access read-fd-dir fds\n"
        "  chroot-escape nnp oom sysctl syscall mkdir seccomp-listener\n",
        stderr);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage_all();
    return 2;
  }
  const char *cmd = argv[1];
  command_name = cmd;
  /* first, so a SIGTERM right after exec finds the handler in place */
  if (strcmp(cmd, "sleep") == 0) set_signal(SIGTERM, on_sigterm_exit);

  if (strcmp(cmd, "true") == 0) return 0;
  if (strcmp(cmd, "false") == 0) return 1;
  if (strcmp(cmd, "exit") == 0) {
    need_args(argc, 1, "N");
    return (int)parse_long(argv[2], "N");
  }
  if (strcmp(cmd, "echo") == 0) {
    for (int i = 2; i < argc; i++) printf("%s%s", i == 2 ? "" : " ", argv[i]);
    printf("\n");
  } else if (strcmp(cmd, "cat") == 0) {
    need_args(argc, 1, "FILE");
    cat_file(argv[2]);
  } else if (strcmp(cmd, "write") == 0) {
    need_args(argc, 2, "FILE TEXT");
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die_errno(errno, "open %s", argv[2]);
    size_t len = strlen(argv[3]);
    if (write(fd, argv[3], len) != (ssize_t)len) die_errno(errno, "write %s", argv[2]);
    if (close(fd) != 0) die_errno(errno, "close %s", argv[2]);
  } else if (strcmp(cmd, "ls") == 0) {
    need_args(argc, 1, "DIR");
    DIR *dir = opendir(argv[2]);
    if (dir == NULL) die_errno(errno, "opendir %s", argv[2]);
    print_sorted_dir(dir, argv[2], -1);
    closedir(dir);
  } else if (strcmp(cmd, "readlink") == 0) {
    need_args(argc, 1, "PATH");
    char target[PATH_MAX];
    ssize_t n = readlink(argv[2], target, sizeof target - 1);
    if (n < 0) die_errno(errno, "readlink %s", argv[2]);
    target[n] = '\0';
    printf("%s\n", target);
  } else if (strcmp(cmd, "stat") == 0 || strcmp(cmd, "lstat") == 0) {
    need_args(argc, 1, "PATH");
    print_stat(argv[2], strcmp(cmd, "stat") == 0);
  } else if (strcmp(cmd, "pid") == 0) {
    printf("%d\n", (int)getpid());
  } else if (strcmp(cmd, "ppid") == 0) {
    printf("%d\n", (int)getppid());
  } else if (strcmp(cmd, "hostname") == 0 || strcmp(cmd, "domainname") == 0) {
    struct utsname uts;
    if (uname(&uts) != 0) die_errno(errno, "uname");
    printf("%s\n", strcmp(cmd, "hostname") == 0 ? uts.nodename : uts.domainname);
  } else if (strcmp(cmd, "ns") == 0) {
    cmd_ns();
  } else if (strcmp(cmd, "ids") == 0) {
    cmd_ids();
  } else if (strcmp(cmd, "caps") == 0) {
    grep_prefix("/proc/self/status", "Cap");
  } else if (strcmp(cmd, "status") == 0) {
    cat_file("/proc/self/status");
  } else if (strcmp(cmd, "rlimit") == 0) {
    need_args(argc, 1, "NAME");
    cmd_rlimit(argv[2]);
  } else if (strcmp(cmd, "cwd") == 0) {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL) die_errno(errno, "getcwd");
    printf("%s\n", cwd);
  } else if (strcmp(cmd, "env") == 0) {
    for (char **e = environ; *e != NULL; e++) printf("%s\n", *e);
  } else if (strcmp(cmd, "printenv") == 0) {
    need_args(argc, 1, "NAME");
    const char *value = getenv(argv[2]);
    if (value == NULL) {
      fprintf(stderr, "testinit printenv: %s is not set\n", argv[2]);
      return 1;
    }
    printf("%s\n", value);
  } else if (strcmp(cmd, "umask") == 0) {
    mode_t mask = umask(0);
    umask(mask);
    printf("%04o\n", (unsigned)mask);
  } else if (strcmp(cmd, "mounts") == 0) {
    cat_file("/proc/self/mountinfo");
  } else if (strcmp(cmd, "netdevs") == 0) {
    cmd_netdevs();
  } else if (strcmp(cmd, "isatty") == 0) {
    need_args(argc, 1, "FD");
    int fd = (int)parse_long(argv[2], "FD");
    if (isatty(fd)) printf("yes\n");
    else printf("no %s\n", errno_name(errno));
  } else if (strcmp(cmd, "sleep") == 0) {
    need_args(argc, 1, "SECONDS");
    sleep_seconds(parse_seconds(argv[2]));
  } else if (strcmp(cmd, "sleep-ignore-term") == 0) {
    need_args(argc, 1, "SECONDS");
    signal(SIGTERM, SIG_IGN);
    sleep_seconds(parse_seconds(argv[2]));
  } else if (strcmp(cmd, "spawn") == 0) {
    need_args(argc, 2, "N SECONDS");
    cmd_spawn(parse_long(argv[2], "N"), parse_seconds(argv[3]));
  } else if (strcmp(cmd, "forkbomb") == 0) {
    need_args(argc, 1, "N");
    cmd_forkbomb(parse_long(argv[2], "N"));
  } else if (strcmp(cmd, "hog") == 0) {
    need_args(argc, 1, "MB [HOLD_SECONDS]");
    cmd_hog(parse_long(argv[2], "MB"), argc > 3 ? parse_seconds(argv[3]) : 0);
  } else if (strcmp(cmd, "spin") == 0) {
    need_args(argc, 1, "SECONDS");
    cmd_spin(parse_seconds(argv[2]));
  } else if (strcmp(cmd, "access") == 0) {
    need_args(argc, 2, "PATH MODE");
    int ok = access(argv[2], parse_access_mode(argv[3])) == 0;
    print_ok_or_errno(ok, errno);
  } else if (strcmp(cmd, "open-write") == 0) {
    need_args(argc, 1, "PATH");
    int fd = open(argv[2], O_WRONLY | O_CLOEXEC);
    print_ok_or_errno(fd >= 0, errno);
    if (fd >= 0) close(fd);
  } else if (strcmp(cmd, "dev-access") == 0) {
    need_args(argc, 4, "PATH TYPE MAJOR MINOR");
    cmd_dev_access(argv[2], argv[3], parse_long(argv[4], "MAJOR"), parse_long(argv[5], "MINOR"));
  } else if (strcmp(cmd, "mknod-test") == 0) {
    cmd_mknod_test(argc > 2 ? argv[2] : "/tmp");
  } else if (strcmp(cmd, "read-fd-dir") == 0) {
    need_args(argc, 1, "FD");
    cmd_read_fd_dir(parse_long(argv[2], "FD"));
  } else if (strcmp(cmd, "fds") == 0) {
    cmd_fds();
  } else if (strcmp(cmd, "chroot-escape") == 0) {
    need_args(argc, 1, "PATH");
    cmd_chroot_escape(argv[2]);
  } else if (strcmp(cmd, "nnp") == 0) {
    int value = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    if (value < 0) die_errno(errno, "prctl PR_GET_NO_NEW_PRIVS");
    printf("%d\n", value);
  } else if (strcmp(cmd, "oom") == 0) {
    printf("%s\n", read_trimmed("/proc/self/oom_score_adj"));
  } else if (strcmp(cmd, "syscall") == 0) {
    /* syscall NR: the raw syscall NR with zero arguments; prints "ok" or the errno name */
    need_args(argc, 1, "NR");
    long rc = syscall(parse_long(argv[2], "NR"), 0, 0, 0, 0, 0, 0);
    int err = errno;
    print_ok_or_errno(rc >= 0, err);
  } else if (strcmp(cmd, "mkdir") == 0) {
    /* mkdir PATH: prints "ok" or the errno name */
    need_args(argc, 1, "PATH");
    int ok = mkdir(argv[2], 0755) == 0;
    int err = errno;
    print_ok_or_errno(ok, err);
  } else if (strcmp(cmd, "seccomp-listener") == 0) {
    need_args(argc, 3, "SOCKET STATEFILE ERRNO");
    cmd_seccomp_listener(argv[2], argv[3], (int)parse_long(argv[4], "ERRNO"));
  } else if (strcmp(cmd, "sysctl") == 0) {
    need_args(argc, 1, "NAME");
    cmd_sysctl(argv[2]);
  } else {
    usage_all();
    die_usage("unknown command");
  }
  if (fflush(stdout) != 0) die_errno(errno, "write stdout");
  return 0;
}
