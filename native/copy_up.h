// tmpcopyup: copies what a directory holds into another one (the fresh tmpfs
// mounted over it), keeping owners, modes and times, as runc's tmpcopyup does.
// Runs in the cloned child: raw syscalls, a static file buffer and one
// getdents buffer per directory level on the stack, no allocation.
#pragma once

namespace husk {

// Copies the entries of from_dir (recursively) into to_dir, both open
// O_RDONLY|O_DIRECTORY. Symlinks are copied, never followed. Returns 0, or -1
// with errno set (ELOOP past 64 levels).
int CopyTree(int from_dir, int to_dir) noexcept;

}  // namespace husk
