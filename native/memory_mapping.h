// A region mmap'd into this process and exposed to JS as an external ArrayBuffer (no copy).
//
// Lifetime rules (the reason this file exists):
// - the munmap happens exactly once: at an explicit unmap(), or when the ArrayBuffer itself is
//   garbage-collected (no JS view can reach the memory any more);
// - an explicit unmap() first Detach()es the ArrayBuffer, so every view reads length 0 and no
//   JS code can touch the unmapped range;
// - the state is shared by the JS wrapper and the ArrayBuffer's finalizer and freed by whichever
//   lets go last, so the order in which V8 collects them does not matter.
#pragma once
#include <napi.h>

#include <cstddef>

struct MappingState {
  void* address;
  size_t length;
  bool unmapped = false;
  int owners = 2;  // the MappingHandle and the ArrayBuffer finalizer

  void Unmap();
  void Release();
};

class MappingHandle : public Napi::ObjectWrap<MappingHandle> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // JS: new MappingHandle(fd, offset, length, writable)            one mmap of a file range
  //     new MappingHandle(fds[], offsets[], writable)               4 KiB pages placed contiguously
  explicit MappingHandle(const Napi::CallbackInfo& info);
  ~MappingHandle() override;

 private:
  Napi::Value Unmap(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  Napi::Value GetAddress(const Napi::CallbackInfo& info);

  MappingState* state_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> buffer_;  // weak: only used to Detach
};
