#include "port_poller.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "errno_error.h"
#include "modules.h"

static constexpr uint32_t kMaxPortsPerRead = 1024;

// Closing a uv handle completes on a later loop iteration. When a worker thread ends, Node
// unloads this addon before its loop runs those close callbacks, so a callback living in this
// library would be called after its code is gone (seen: SIGSEGV in uv__finish_close). The
// handles are therefore malloc'd and closed with libc's free() as the callback, which stays
// mapped; free(void*) and uv_close_cb take one pointer argument in the same register on every
// ABI Node supports.
static uv_poll_t* NewPollHandle() { return static_cast<uv_poll_t*>(std::malloc(sizeof(uv_poll_t))); }

static void CloseAndFree(uv_poll_t* handle) {
  handle->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle), reinterpret_cast<uv_close_cb>(reinterpret_cast<void (*)()>(&std::free)));
}

Napi::Function PortPoller::DefineClass(Napi::Env env) {
  return ObjectWrap<PortPoller>::DefineClass(env, "PortPoller", {
    InstanceMethod<&PortPoller::Start>("start"),
    InstanceMethod<&PortPoller::Stop>("stop"),
    InstanceMethod<&PortPoller::RefLoop>("ref"),
    InstanceMethod<&PortPoller::UnrefLoop>("unref"),
    InstanceAccessor<&PortPoller::GetActive>("active"),
  });
}

PortPoller::PortPoller(const Napi::CallbackInfo& info)
    : ObjectWrap<PortPoller>(info), fd_(ArgFd(info, 0)), asyncContext_(info.Env(), "xenipc.PortPoller") {
  if (info.Length() < 3 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array || !info[2].IsFunction()) {
    ThrowType(info.Env(), "expected (fd, ports: Uint32Array, onPorts: Function)");
  }
  Napi::Uint32Array ports = info[1].As<Napi::Uint32Array>();
  if (ports.ElementLength() == 0) ThrowType(info.Env(), "ports must hold at least one element");
  if (info.Length() > 3 && !info[3].IsUndefined()) datagramPairs_ = ArgBool(info, 3, "datagramPairs");
  if (datagramPairs_ && ports.ElementLength() < 2) ThrowType(info.Env(), "ports must hold at least two elements in datagram mode");
  ports_ = Napi::Persistent(ports);
  onPorts_ = Napi::Persistent(info[2].As<Napi::Function>());
}

PortPoller::~PortPoller() { CloseHandle(); }

void PortPoller::CloseHandle() {
  if (handle_ == nullptr) return;
  uv_poll_stop(handle_);
  CloseAndFree(handle_);
  handle_ = nullptr;
  napi_remove_env_cleanup_hook(Env(), OnEnvCleanup, this);
}

void PortPoller::OnEnvCleanup(void* self) { static_cast<PortPoller*>(self)->CloseHandle(); }

Napi::Value PortPoller::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (handle_ != nullptr) return env.Undefined();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
  uv_poll_t* handle = NewPollHandle();
  if (handle == nullptr) throw ErrnoError(env, "malloc", ENOMEM);
  int rc = uv_poll_init(loop, handle, fd_);
  if (rc < 0) {
    std::free(handle);  // uv_poll_init failing leaves nothing registered with the loop
    throw ErrnoError(env, "uv_poll_init", -rc);
  }
  handle->data = this;
  rc = uv_poll_start(handle, UV_READABLE, OnPoll);
  if (rc < 0) {
    CloseAndFree(handle);
    throw ErrnoError(env, "uv_poll_start", -rc);
  }
  handle_ = handle;
  if (!loopReferenced_) uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
  napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
  Ref();  // an active poller must not be collected while the loop can call into it
  return env.Undefined();
}

Napi::Value PortPoller::Stop(const Napi::CallbackInfo& info) {
  if (handle_ != nullptr) {
    CloseHandle();
    Unref();
  }
  return info.Env().Undefined();
}

Napi::Value PortPoller::RefLoop(const Napi::CallbackInfo& info) {
  loopReferenced_ = true;
  if (handle_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(handle_));
  return info.Env().Undefined();
}

Napi::Value PortPoller::UnrefLoop(const Napi::CallbackInfo& info) {
  loopReferenced_ = false;
  if (handle_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
  return info.Env().Undefined();
}

Napi::Value PortPoller::GetActive(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), handle_ != nullptr);
}

void PortPoller::OnPoll(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<PortPoller*>(handle->data);
  if (self != nullptr) self->HandleReadable(status);
}

void PortPoller::HandleReadable(int status) {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  if (status < 0) {
    Deliver(0, ErrnoError(env, "poll", -status).Value());
    return;
  }
  Napi::Uint32Array ports = ports_.Value();
  if (datagramPairs_) {
    ReadDatagramPairs(ports);
  } else {
    ReadEvtchn(ports);
  }
}

void PortPoller::ReadEvtchn(Napi::Uint32Array ports) {
  Napi::Env env = Env();
  uint32_t capacity = static_cast<uint32_t>(std::min<size_t>(ports.ElementLength(), kMaxPortsPerRead));
  uint32_t buffer[kMaxPortsPerRead];
  ssize_t got = read(fd_, buffer, capacity * sizeof(uint32_t));
  if (got < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    Deliver(0, ErrnoError(env, "read", errno).Value());
    return;
  }
  if (got == 0) {
    // End of file (only a test socket does this): report instead of spinning on readiness.
    Deliver(0, ErrnoError(env, "read", EPIPE).Value());
    return;
  }
  size_t bytes = static_cast<size_t>(got) - static_cast<size_t>(got) % sizeof(uint32_t);
  uint32_t count = static_cast<uint32_t>(bytes / sizeof(uint32_t));
  // Unmask before the callback runs: a notify arriving while JS handles this batch is delivered
  // as a new event rather than lost.
  ssize_t wrote = write(fd_, buffer, bytes);
  int writeError = wrote < 0 ? errno : 0;
  std::memcpy(ports.Data(), buffer, bytes);
  Deliver(count, writeError != 0 ? ErrnoError(env, "write", writeError).Value() : env.Undefined());
}

void PortPoller::ReadDatagramPairs(Napi::Uint32Array ports) {
  Napi::Env env = Env();
  uint32_t capacity = static_cast<uint32_t>(std::min<size_t>(ports.ElementLength(), kMaxPortsPerRead)) & ~1u;
  uint32_t* out = ports.Data();
  uint32_t count = 0;
  int error = 0;
  // Bounded also in datagrams read, so a peer flooding malformed ones cannot hold the loop.
  for (uint32_t reads = 0; count < capacity && reads < kMaxPortsPerRead; reads++) {
    uint32_t frame[2];
    // MSG_TRUNC: the return value is the datagram's real length, so a longer one is seen as such.
    ssize_t got = recv(fd_, frame, sizeof(frame), MSG_DONTWAIT | MSG_TRUNC);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) error = errno;
      break;
    }
    if (got != static_cast<ssize_t>(sizeof(frame))) continue;
    out[count++] = frame[0];
    out[count++] = frame[1];
  }
  if (count == 0 && error == 0) return;
  Deliver(count, error != 0 ? ErrnoError(env, "recv", error).Value() : env.Undefined());
}

void PortPoller::Deliver(uint32_t count, Napi::Value error) {
  Napi::Env env = Env();
  try {
    onPorts_.MakeCallback(Value(), {Napi::Number::New(env, count), error}, asyncContext_);
  } catch (const Napi::Error& e) {
    // A throwing JS handler is an uncaught exception of the process, as for any I/O callback.
    napi_fatal_exception(env, e.Value());
  }
}

void InitPortPoller(Napi::Env env, Napi::Object exports) {
  exports.Set("PortPoller", PortPoller::DefineClass(env));
}
