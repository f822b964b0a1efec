/*
 * husk-exec: the last exec of every process husk starts (native/exec_helper.h says
 * why). A few hundred bytes of static code with no libc: its own _start, raw system
 * calls, no allocation. It runs from a sealed memfd, so a container that reaches it
 * through /proc/self/exe finds an immutable copy of this, and nothing of the host.
 *
 *   argv: HUSK_EXEC_MARKER, <op index>, <path>, <argv of the program...>
 *
 * Run any other way (a program started as /proc/self/exe, or a #!/proc/self/exe
 * script), it says what it is and exits 127.
 */
#include "../exec_helper.h"

/* Raw system calls: four arguments, the fifth and sixth 0. */
#if defined(__x86_64__)
enum { SYS_write = 1, SYS_fcntl = 72, SYS_sendto = 44, SYS_execve = 59, SYS_exit_group = 231 };
static long sys(long n, long a, long b, long c, long d) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = 0;
  register long r9 __asm__("r9") = 0;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return ret;
}
__asm__(".text\n.global _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call helper_main\n ud2\n");
#elif defined(__aarch64__)
enum { SYS_write = 64, SYS_fcntl = 25, SYS_sendto = 206, SYS_execve = 221, SYS_exit_group = 94 };
static long sys(long n, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = 0;
  register long x5 __asm__("x5") = 0;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
__asm__(".text\n.global _start\n_start:\n mov x0, sp\n bl helper_main\n brk #0\n");
#else
#error "husk-exec: only x86_64 and aarch64 are supported"
#endif

enum { F_SETFD = 2, FD_CLOEXEC = 1, MSG_NOSIGNAL = 0x4000 };

static unsigned long length(const char *s) {
  unsigned long n = 0;
  while (s[n] != '\0') n++;
  return n;
}

static void say(const char *s) { sys(SYS_write, 2, (long)s, (long)length(s), 0); }

static __attribute__((noreturn)) void leave(void) {
  sys(SYS_exit_group, 127, 0, 0, 0);
  __builtin_trap(); /* exit_group denied by a seccomp profile: die anyway */
}

/* The errno names exec can give, worded as glibc's strerrorname_np/strerrordesc_np
 * (the child's own reports on stderr use those), for when the runtime is gone. */
static const char *errno_text(int err) {
  switch (err) {
    case 1: return "EPERM (Operation not permitted)";
    case 2: return "ENOENT (No such file or directory)";
    case 7: return "E2BIG (Argument list too long)";
    case 8: return "ENOEXEC (Exec format error)";
    case 12: return "ENOMEM (Cannot allocate memory)";
    case 13: return "EACCES (Permission denied)";
    case 20: return "ENOTDIR (Not a directory)";
    case 21: return "EISDIR (Is a directory)";
    case 22: return "EINVAL (Invalid argument)";
    case 26: return "ETXTBSY (Text file busy)";
    case 36: return "ENAMETOOLONG (File name too long)";
    case 40: return "ELOOP (Too many levels of symbolic links)";
    case 80: return "ELIBBAD (Accessing a corrupted shared library)";
    default: return 0;
  }
}

static void say_number(int n) {
  char digits[12];
  int len = 0;
  unsigned value = (unsigned)n;
  do {
    digits[len++] = (char)('0' + value % 10);
    value /= 10;
  } while (value > 0);
  char text[12];
  for (int i = 0; i < len; i++) text[i] = digits[len - 1 - i];
  text[len] = '\0';
  say(text);
}

static int parse_int(const char *s) {
  int n = 0;
  for (; *s >= '0' && *s <= '9'; s++) n = n * 10 + (*s - '0');
  return n;
}

static int same(const char *a, const char *b) {
  while (*a != '\0' && *a == *b) a++, b++;
  return *a == *b;
}

__attribute__((used, noreturn)) void helper_main(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  if (argc < 4 || !same(argv[0], HUSK_EXEC_MARKER)) {
    say("husk-exec: this is husk's sealed exec helper, not a program to run\n");
    leave();
  }
  int op = parse_int(argv[1]);
  /* The sync socket: closed by a successful execve (the runtime's sign that it exec'd). */
  sys(SYS_fcntl, HUSK_EXEC_SYNC_FD, F_SETFD, FD_CLOEXEC, 0);
  long rc = sys(SYS_execve, (long)argv[2], (long)(argv + 3), (long)envp, 0);
  int msg[4];
  msg[0] = HUSK_SYNC_ERROR;
  msg[1] = op;
  msg[2] = (int)-rc;
  msg[3] = 0;
  /* sendto(fd, buf, len, flags, NULL, 0) */
  if (sys(SYS_sendto, HUSK_EXEC_SYNC_FD, (long)msg, sizeof msg, MSG_NOSIGNAL) != (long)sizeof msg) {
    say("husk: exec ");
    say(argv[2]);
    say(": ");
    const char *text = errno_text((int)-rc);
    if (text != 0) {
      say(text);
    } else {
      say("errno ");
      say_number((int)-rc);
    }
    say("\n");
  }
  leave();
}
