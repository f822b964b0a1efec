/*
 * The contract between the cloned child (native/child.cc) and husk-exec, the
 * exec helper (native/tools/exec_helper.c): C, so both can include it.
 *
 * The child never execve()s the container's program itself: it is a clone of
 * Node, and a program started as /proc/self/exe (args[0], or the #! interpreter
 * of a script) would load the host's node binary inside the container, which
 * could then reopen it for writing (CVE-2019-5736). Instead it execveat()s the
 * helper from a sealed memfd (AT_EMPTY_PATH) with
 *   argv = { HUSK_EXEC_MARKER, "<op index>", "<path>", <the program's argv...> }
 * and the helper execve()s <path> with the program's argv and environment. From
 * then on /proc/self/exe of the process is the program, or the sealed helper: never
 * a host file.
 *
 * The child's end of the sync socket is at HUSK_EXEC_SYNC_FD, inheritable for the
 * helper: the helper makes it close-on-exec before its execve (success closes it,
 * which the runtime reads as "exec'd"), and on failure sends the runtime a sync
 * error message {HUSK_SYNC_ERROR, op index, errno, 0} there.
 */
#ifndef HUSK_EXEC_HELPER_H
#define HUSK_EXEC_HELPER_H

#define HUSK_EXEC_SYNC_FD 910   /* the child's end of the sync socket */
#define HUSK_EXEC_HELPER_FD 911 /* the sealed memfd holding husk-exec, in the child */
#define HUSK_EXEC_MARKER "husk-exec"
#define HUSK_SYNC_ERROR 1 /* native/sync_proto.h kSyncError */

#endif
