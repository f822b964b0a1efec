#include "unix_socket.h"

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "errors.h"

namespace husk {

socklen_t FillUnixAddress(Napi::Env env, const std::string& path, struct sockaddr_un* addr, const char* syscall) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr->sun_path) throw SystemError(env, path.empty() ? EINVAL : ENAMETOOLONG, syscall, path.c_str());
  memcpy(addr->sun_path, path.c_str(), path.size());
  if (path[0] == '@') {
    addr->sun_path[0] = '\0';
    return static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size());
  }
  return sizeof *addr;
}

void SendMessageAndClose(Napi::Env env, int sock, const struct msghdr* mh, const std::string& path) {
  ssize_t n;
  do {
    n = sendmsg(sock, mh, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  int saved = errno;
  close(sock);
  if (n < 0) {
    errno = saved;
    ThrowErrno(env, "sendmsg", path.c_str());
  }
}

}  // namespace husk
