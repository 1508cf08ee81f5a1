// Delivery of pending event-channel ports from an evtchn fd, driven by a uv_poll_t on the event
// loop: no thread, no spinning, no blocking read. On readiness one read() collects up to the
// capacity of the caller's Uint32Array, one write() of the same ports unmasks them (evtchn's
// protocol), and the JS callback gets the count. Errors (EFBIG on ring overflow, EOF on a test
// socket) go to the same callback, which decides whether to reset or stop.
//
// Datagram mode (the simulated host's event sockets, event_socket.cc): each readable datagram
// must be exactly 8 bytes ({sender domid, port}); others are consumed and dropped as hostile. Up to
// capacity / 2 pairs are collected per wake-up, nothing is written back, and the callback gets
// the count of u32 values (twice the pairs).
#pragma once
#include <napi.h>
#include <uv.h>

class PortPoller : public Napi::ObjectWrap<PortPoller> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // JS: new PortPoller(fd, ports: Uint32Array, onPorts: (count: number, error?: Error) => void,
  //                    datagramPairs = false)
  explicit PortPoller(const Napi::CallbackInfo& info);
  ~PortPoller() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value RefLoop(const Napi::CallbackInfo& info);
  Napi::Value UnrefLoop(const Napi::CallbackInfo& info);
  Napi::Value GetActive(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnEnvCleanup(void* self);
  void HandleReadable(int status);
  void ReadEvtchn(Napi::Uint32Array ports);
  void ReadDatagramPairs(Napi::Uint32Array ports);
  void Deliver(uint32_t count, Napi::Value error);
  void CloseHandle();

  int fd_;
  bool datagramPairs_ = false;
  bool loopReferenced_ = true;
  uv_poll_t* handle_ = nullptr;  // owned until uv_close's callback frees it
  Napi::Reference<Napi::Uint32Array> ports_;
  Napi::FunctionReference onPorts_;
  Napi::AsyncContext asyncContext_;
};
