// The sd_notify relay of `husk start` (runc's notify_socket.go): a unix datagram
// socket the container's NOTIFY_SOCKET points at, and the messages forwarded to
// the caller's own NOTIFY_SOCKET (systemd, podman's conmon...).
#pragma once
#include <napi.h>

namespace husk {

void InitNotifySocket(Napi::Env env, Napi::Object exports);

}  // namespace husk
