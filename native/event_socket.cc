// Event sockets: how the simulated Xen host delivers event-channel notifications between domain
// processes without going through Node's stream machinery. Each domain binds one non-blocking
// Unix datagram socket (an abstract name); a sender keeps one socket connected to each peer
// domain and writes one 8-byte datagram per event: {u32 sender domid, u32 receiver port} in host
// byte order (both ends are on one machine). The receiving side is a PortPoller in datagram mode (port_poller.cc).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "errno_error.h"
#include "modules.h"

// Fills `addr` for `name` (a leading NUL byte makes it abstract, as in Node); returns its length.
static socklen_t SocketAddress(const Napi::CallbackInfo& info, size_t i, sockaddr_un* addr) {
  if (info.Length() <= i || !info[i].IsString()) ThrowType(info.Env(), "socket name must be a string");
  std::string name = info[i].As<Napi::String>().Utf8Value();
  if (name.empty() || name.size() > sizeof(addr->sun_path)) ThrowType(info.Env(), "socket name must be 1..108 bytes");
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path, name.data(), name.size());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
}

// A non-blocking datagram socket bound to (receiver) or connected to (sender) the name in argument 0.
static Napi::Value DatagramSocketAt(const Napi::CallbackInfo& info, bool receiver) {
  sockaddr_un addr;
  socklen_t len = SocketAddress(info, 0, &addr);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(info.Env(), "socket");
  const sockaddr* at = reinterpret_cast<sockaddr*>(&addr);
  if ((receiver ? bind(fd, at, len) : connect(fd, at, len)) < 0) {
    int err = errno;
    close(fd);
    throw ErrnoError(info.Env(), receiver ? "bind" : "connect", err);
  }
  return Napi::Number::New(info.Env(), fd);
}

// eventSocketBind(name) -> fd of a datagram socket receiving at `name`.
static Napi::Value Bind(const Napi::CallbackInfo& info) { return DatagramSocketAt(info, true); }

// eventSocketConnect(name) -> fd of a datagram socket whose writes go to `name`.
static Napi::Value Connect(const Napi::CallbackInfo& info) { return DatagramSocketAt(info, false); }

// eventSocketSend(fd, from, port) -> 0, or the errno of a send that did not go (EAGAIN: the
// receiver's queue is full; ECONNREFUSED: it is gone). Never throws for those: the caller
// routes the event another way.
static Napi::Value Send(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  uint32_t frame[2] = {ArgU32(info, 1, "from"), ArgU32(info, 2, "port")};
  ssize_t sent;
  do {
    sent = send(fd, frame, sizeof(frame), MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  int err = sent == static_cast<ssize_t>(sizeof(frame)) ? 0 : (sent < 0 ? errno : EMSGSIZE);
  return Napi::Number::New(info.Env(), err);
}

void InitEventSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("eventSocketBind", Napi::Function::New<Bind>(env, "eventSocketBind"));
  exports.Set("eventSocketConnect", Napi::Function::New<Connect>(env, "eventSocketConnect"));
  exports.Set("eventSocketSend", Napi::Function::New<Send>(env, "eventSocketSend"));
}
