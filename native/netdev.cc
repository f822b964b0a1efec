// linux.netDevices: moving a network interface of the runtime's network namespace
// into the container's, renamed, as runc 1.3 does: rtnetlink from the runtime (not
// the child), at a sync point. The interface is taken down, its permanent global
// addresses are noted, one RTM_NEWLINK moves and renames it (IFLA_NET_NS_FD +
// IFLA_IFNAME), and inside the container's namespace it is set up and the addresses
// are added back (a move drops them). A netlink socket of the container's namespace
// is made by a short-lived thread that enters it: setns(CLONE_NEWNET) changes only
// the calling thread, and a socket keeps the namespace it was made in.
#include "netdev.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "errors.h"

namespace husk {
namespace {

// One rtnetlink request being built: header, family struct, attributes.
class Request {
 public:
  Request(uint16_t type, uint16_t flags) {
    buf_.resize(NLMSG_HDRLEN);
    auto* h = Header();
    h->nlmsg_type = type;
    h->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    h->nlmsg_len = NLMSG_HDRLEN;
  }
  template <typename T>
  void Body(const T& body) { Append(&body, sizeof body); }
  void Attr(uint16_t type, const void* data, size_t len) {
    struct rtattr rta = {};
    rta.rta_type = type;
    rta.rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    Append(&rta, sizeof rta);
    Append(data, len);
  }
  void Attr(uint16_t type, const std::string& s) { Attr(type, s.c_str(), s.size() + 1); }
  void Attr(uint16_t type, uint32_t v) { Attr(type, &v, sizeof v); }
  std::vector<char>& Bytes() { return buf_; }

 private:
  struct nlmsghdr* Header() { return reinterpret_cast<struct nlmsghdr*>(buf_.data()); }
  void Append(const void* data, size_t len) {
    size_t at = buf_.size();
    buf_.resize(NLMSG_ALIGN(at + len));
    memcpy(buf_.data() + at, data, len);
    Header()->nlmsg_len = static_cast<uint32_t>(buf_.size());
  }
  std::vector<char> buf_;
};

struct Failure {
  int err;
  std::string what;
};

int OpenRtnetlink() {
  int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (sock < 0) throw Failure{errno, "socket(AF_NETLINK)"};
  return sock;
}

// Sends the request and reads the answers; for a dump, each message goes to `each`.
template <typename Each>
void Exchange(int sock, Request& req, const std::string& what, Each each) {
  std::vector<char>& out = req.Bytes();
  if (send(sock, out.data(), out.size(), 0) < 0) throw Failure{errno, what};
  std::vector<char> in(64 * 1024);
  for (;;) {
    ssize_t n = recv(sock, in.data(), in.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Failure{errno, what};
    for (auto* h = reinterpret_cast<struct nlmsghdr*>(in.data()); NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return;
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<struct nlmsgerr*>(NLMSG_DATA(h));
        if (e->error != 0) throw Failure{-e->error, what};
        return;  // the ACK
      }
      each(h);
    }
  }
}

void Execute(int sock, Request& req, const std::string& what) {
  Exchange(sock, req, what, [](struct nlmsghdr*) {});
}

int IndexOf(int sock, const std::string& name, const std::string& where) {
  Request req(RTM_GETLINK, NLM_F_ACK);
  struct ifinfomsg ifi = {};
  ifi.ifi_family = AF_UNSPEC;
  req.Body(ifi);
  req.Attr(IFLA_IFNAME, name);
  int index = 0;
  Exchange(sock, req, "find network device " + name + where, [&](struct nlmsghdr* h) {
    if (h->nlmsg_type == RTM_NEWLINK) index = static_cast<struct ifinfomsg*>(NLMSG_DATA(h))->ifi_index;
  });
  if (index == 0) throw Failure{ENODEV, "find network device " + name + where};
  return index;
}

void SetUp(int sock, int index, bool up, const std::string& what) {
  Request req(RTM_NEWLINK, NLM_F_ACK);
  struct ifinfomsg ifi = {};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  ifi.ifi_flags = up ? IFF_UP : 0;
  ifi.ifi_change = IFF_UP;
  req.Body(ifi);
  Execute(sock, req, what);
}

struct Address {
  uint8_t family;
  uint8_t prefix;
  std::vector<char> local;
};

// The permanent, global-scope addresses of the device (runc moves only those:
// dynamic or link-scoped ones belong to the namespace they were made in).
std::vector<Address> AddressesOf(int sock, int index, const std::string& name) {
  Request req(RTM_GETADDR, NLM_F_DUMP);
  struct ifaddrmsg ifa = {};
  ifa.ifa_family = AF_UNSPEC;
  req.Body(ifa);
  std::vector<Address> found;
  Exchange(sock, req, "list the addresses of " + name, [&](struct nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWADDR) return;
    auto* msg = static_cast<struct ifaddrmsg*>(NLMSG_DATA(h));
    if (static_cast<int>(msg->ifa_index) != index || msg->ifa_scope != RT_SCOPE_UNIVERSE) return;
    uint32_t flags = msg->ifa_flags;
    const char* local = nullptr;
    size_t local_len = 0;
    int len = static_cast<int>(IFA_PAYLOAD(h));
    for (auto* rta = IFA_RTA(msg); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
      if (rta->rta_type == IFA_FLAGS) memcpy(&flags, RTA_DATA(rta), sizeof flags);
      // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links
      if (rta->rta_type == IFA_LOCAL || (rta->rta_type == IFA_ADDRESS && local == nullptr)) {
        local = static_cast<const char*>(RTA_DATA(rta));
        local_len = RTA_PAYLOAD(rta);
      }
    }
    if (!(flags & IFA_F_PERMANENT) || local == nullptr) return;
    found.push_back({msg->ifa_family, msg->ifa_prefixlen, std::vector<char>(local, local + local_len)});
  });
  return found;
}

void AddAddress(int sock, int index, const Address& a, const std::string& name) {
  Request req(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  struct ifaddrmsg ifa = {};
  ifa.ifa_family = a.family;
  ifa.ifa_prefixlen = a.prefix;
  ifa.ifa_index = static_cast<uint32_t>(index);
  req.Body(ifa);
  req.Attr(IFA_LOCAL, a.local.data(), a.local.size());
  req.Attr(IFA_ADDRESS, a.local.data(), a.local.size());
  char text[INET6_ADDRSTRLEN] = "?";
  inet_ntop(a.family, a.local.data(), text, sizeof text);
  Execute(sock, req, "add address " + std::string(text) + "/" + std::to_string(a.prefix) + " to " + name + " in the container");
}

// A netlink socket of the network namespace netns_fd, made by a thread that enters it.
int SocketIn(int netns_fd) {
  int sock = -1;
  int err = 0;
  std::thread enter([&] {
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
      err = errno;
      return;
    }
    sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (sock < 0) err = errno;
  });
  enter.join();
  if (sock < 0) throw Failure{err, "enter the container's network namespace"};
  return sock;
}

}  // namespace

// moveNetDevice(hostName, netnsFd, newName)
Napi::Value MoveNetDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsNumber() || !info[2].IsString()) {
    throw Napi::TypeError::New(env, "moveNetDevice(hostName: string, netnsFd: number, newName: string)");
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int netns_fd = info[1].As<Napi::Number>().Int32Value();
  std::string new_name = info[2].As<Napi::String>().Utf8Value();
  int host = -1;
  int inside = -1;
  try {
    host = OpenRtnetlink();
    int index = IndexOf(host, name, "");
    std::vector<Address> addresses = AddressesOf(host, index, name);
    SetUp(host, index, false, "set " + name + " down");
    Request move(RTM_NEWLINK, NLM_F_ACK);
    struct ifinfomsg ifi = {};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    move.Body(ifi);
    move.Attr(IFLA_NET_NS_FD, static_cast<uint32_t>(netns_fd));
    move.Attr(IFLA_IFNAME, new_name);
    Execute(host, move, "move network device " + name + " into the container as " + new_name);
    inside = SocketIn(netns_fd);
    int moved = IndexOf(inside, new_name, " in the container");
    SetUp(inside, moved, true, "set " + new_name + " up in the container");
    for (const Address& a : addresses) AddAddress(inside, moved, a, new_name);
  } catch (const Failure& f) {
    if (host >= 0) close(host);
    if (inside >= 0) close(inside);
    throw SystemError(env, f.err, f.what.c_str());
  }
  close(host);
  close(inside);
  return env.Undefined();
}

}  // namespace husk
