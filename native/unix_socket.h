// Unix sockets on the runtime side (not the child's): filling an address and
// sending one message, shared by --console-socket and the sd_notify relay.
#pragma once
#include <napi.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <string>

namespace husk {

// An abstract name ("@name", as systemd writes it) or a path; throws a
// SystemError for `syscall` naming the path when it does not fit.
socklen_t FillUnixAddress(Napi::Env env, const std::string& path, struct sockaddr_un* addr, const char* syscall);

// sendmsg(sock, mh) (EINTR retried, MSG_NOSIGNAL), then close(sock); throws a
// SystemError for sendmsg naming `path` when sending failed.
void SendMessageAndClose(Napi::Env env, int sock, const struct msghdr* mh, const std::string& path);

}  // namespace husk
