/*
 * A stand-in for an engine's subreaper (conmon, containerd-shim), compiled by the tests
 * that use it (tests/helpers/subreaper.ts): it becomes a child subreaper
 * (PR_SET_CHILD_SUBREAPER), runs the command it is given and waits for it, then reaps
 * every orphan that reaches it until none is left, and prints one line per exit:
 *   command PID exit CODE | command PID signal SIG
 *   orphan PID exit CODE  | orphan PID signal SIG
 * It gives up after TIMEOUT seconds (argv[1]) with exit status 3, so a test never hangs.
 *   usage: subreaper TIMEOUT COMMAND [ARG...]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *what, pid_t pid, int status) {
  if (WIFEXITED(status)) printf("%s %d exit %d\n", what, (int)pid, WEXITSTATUS(status));
  else printf("%s %d signal %d\n", what, (int)pid, WTERMSIG(status));
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: subreaper TIMEOUT COMMAND [ARG...]\n");
    return 2;
  }
  alarm((unsigned)atoi(argv[1])); /* SIGALRM kills us: the test sees a signal, not a hang */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
    perror("prctl(PR_SET_CHILD_SUBREAPER)");
    return 2;
  }
  pid_t command = fork();
  if (command < 0) {
    perror("fork");
    return 2;
  }
  if (command == 0) {
    execvp(argv[2], argv + 2);
    perror("execvp");
    _exit(127);
  }
  int status;
  while (waitpid(command, &status, 0) < 0) {
    if (errno != EINTR) {
      perror("waitpid");
      return 2;
    }
  }
  report("command", command, status);
  for (;;) {
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) return 0;
      perror("waitpid");
      return 2;
    }
    report("orphan", pid, status);
  }
}
