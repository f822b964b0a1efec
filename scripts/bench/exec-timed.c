/*
 * exec-timed: runs a command COUNT times (PARALLEL at once) and prints one JSON
 * line: wall time from before the first fork to after the last wait4, the
 * children's user and system CPU (rusage, microseconds, descendants they reaped
 * included) and the largest ru_maxrss.
 *
 * Why a C helper: Node cannot give a child's rusage, and timing inside a tiny
 * single-threaded process keeps the driver's own spawn cost out of the numbers.
 *
 * usage: exec-timed [--mntns FILE] [--count N] [--parallel P] [--quiet] -- CMD [ARG...]
 *   "%i" in an argument is replaced by the run's index (0..N-1);
 *   --mntns joins that mount namespace first (setns, outside the timed window);
 *   --quiet sends the command's stdout to /dev/null.
 * The first failing run's exit status is reported; its stderr passes through.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long tv_us(struct timeval tv) { return (long long)tv.tv_sec * 1000000LL + tv.tv_usec; }

static char **argv_for(char **cmd, int argc, long index) {
  char **out = calloc((size_t)argc + 1, sizeof(char *));
  if (out == NULL) { perror("exec-timed: calloc"); exit(125); }
  for (int i = 0; i < argc; i++) {
    const char *mark = strstr(cmd[i], "%i");
    if (mark == NULL) { out[i] = cmd[i]; continue; }
    size_t len = strlen(cmd[i]) + 24;
    out[i] = malloc(len);
    if (out[i] == NULL) { perror("exec-timed: malloc"); exit(125); }
    snprintf(out[i], len, "%.*s%ld%s", (int)(mark - cmd[i]), cmd[i], index, mark + 2);
  }
  return out;
}

static pid_t launch(char **cmd, int argc, long index, int quiet) {
  char **args = argv_for(cmd, argc, index);
  pid_t pid = fork();
  if (pid < 0) { perror("exec-timed: fork"); exit(125); }
  if (pid == 0) {
    if (quiet) {
      int devnull = open("/dev/null", O_WRONLY);
      if (devnull >= 0) dup2(devnull, 1);
    }
    execvp(args[0], args);
    fprintf(stderr, "exec-timed: exec %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
  return pid;
}

int main(int argc, char **argv) {
  long count = 1, parallel = 1;
  int quiet = 0, i = 1;
  const char *mntns = NULL;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) { i++; break; }
    if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = atol(argv[++i]);
    else if (strcmp(argv[i], "--parallel") == 0 && i + 1 < argc) parallel = atol(argv[++i]);
    else if (strcmp(argv[i], "--mntns") == 0 && i + 1 < argc) mntns = argv[++i];
    else if (strcmp(argv[i], "--quiet") == 0) quiet = 1;
    else { fprintf(stderr, "exec-timed: unknown option %s\n", argv[i]); return 125; }
  }
  if (i >= argc || count < 1 || parallel < 1) {
    fprintf(stderr, "usage: exec-timed [--mntns FILE] [--count N] [--parallel P] [--quiet] -- CMD [ARG...]\n");
    return 125;
  }
  if (mntns != NULL) {
    int fd = open(mntns, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNS) < 0) {
      fprintf(stderr, "exec-timed: join mount namespace %s: %s\n", mntns, strerror(errno));
      return 125;
    }
    close(fd);
  }
  char **cmd = argv + i;
  int cmdc = argc - i;

  long started = 0, running = 0, failures = 0;
  int first_failure = 0;
  long long utime = 0, stime = 0, maxrss = 0;
  long long t0 = now_ns();
  while (started < count || running > 0) {
    while (started < count && running < parallel) {
      launch(cmd, cmdc, started, quiet);
      started++;
      running++;
    }
    int status;
    struct rusage ru;
    pid_t done = wait4(-1, &status, 0, &ru);
    if (done < 0) {
      if (errno == EINTR) continue;
      perror("exec-timed: wait4");
      return 125;
    }
    running--;
    utime += tv_us(ru.ru_utime);
    stime += tv_us(ru.ru_stime);
    if (ru.ru_maxrss > maxrss) maxrss = ru.ru_maxrss;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0 && failures++ == 0) first_failure = code;
  }
  long long wall = now_ns() - t0;
  printf("{\"wallNs\":%lld,\"userUs\":%lld,\"sysUs\":%lld,\"maxRssKb\":%lld,\"failures\":%ld,\"firstFailure\":%d}\n", wall, utime,
         stime, maxrss, failures, first_failure);
  return 0;
}
