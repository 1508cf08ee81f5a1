// Opening and closing device fds, plus the fds tests use to run the mapping and polling code
// without Xen (memfd for mappings, a socket pair for the poller).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "errno_error.h"
#include "modules.h"

// openDevice(path) -> fd, O_RDWR | O_CLOEXEC | O_NONBLOCK (reads never block the event loop).
static Napi::Value OpenDevice(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(info.Env(), "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) ThrowErrno(info.Env(), "open");
  return Napi::Number::New(info.Env(), fd);
}

static Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  // Linux releases the fd even when close reports EINTR: never retry.
  if (close(fd) < 0 && errno != EINTR) ThrowErrno(info.Env(), "close");
  return info.Env().Undefined();
}

// memfdCreate(name, size) -> fd of an anonymous shared file of `size` bytes.
static Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(info.Env(), "name must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  uint64_t size = ArgU64(info, 1, "size");
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), "memfd_create");
  if (ftruncate(fd, static_cast<off_t>(size)) < 0) {
    int err = errno;
    close(fd);
    throw ErrnoError(info.Env(), "ftruncate", err);
  }
  return Napi::Number::New(info.Env(), fd);
}

// socketPair(datagram = false) -> [fd, fd], non-blocking stream sockets (stand-in for an evtchn
// fd in tests), or datagram sockets (for the event-socket poller's tests).
static Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  bool datagram = info.Length() > 0 && !info[0].IsUndefined() && ArgBool(info, 0, "datagram");
  int fds[2];
  int type = datagram ? SOCK_DGRAM : SOCK_STREAM;
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0) ThrowErrno(info.Env(), "socketpair");
  Napi::Array result = Napi::Array::New(info.Env(), 2);
  result.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  result.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return result;
}

void InitFileDescriptors(Napi::Env env, Napi::Object exports) {
  exports.Set("openDevice", Napi::Function::New<OpenDevice>(env, "openDevice"));
  exports.Set("closeFd", Napi::Function::New<CloseFd>(env, "closeFd"));
  exports.Set("memfdCreate", Napi::Function::New<MemfdCreate>(env, "memfdCreate"));
  exports.Set("socketPair", Napi::Function::New<SocketPair>(env, "socketPair"));
}
