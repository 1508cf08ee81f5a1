#include "memory_mapping.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "addon_data.h"
#include "errno_error.h"
#include "modules.h"

static constexpr size_t kPageSize = 4096;

void MappingState::Unmap() {
  if (unmapped) return;
  munmap(address, length);
  unmapped = true;
}

void MappingState::Release() {
  if (--owners == 0) delete this;
}

static void* MapFileRange(Napi::Env env, int fd, uint64_t offset, size_t length, bool writable) {
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* address = mmap(nullptr, length, prot, MAP_SHARED, fd, static_cast<off_t>(offset));
  if (address == MAP_FAILED) ThrowErrno(env, "mmap");
  return address;
}

// Reserve the whole range PROT_NONE first so the pages land contiguously, then MAP_FIXED each.
static void* MapPages(Napi::Env env, const std::vector<int>& fds, const std::vector<uint64_t>& offsets, bool writable) {
  size_t length = fds.size() * kPageSize;
  void* base = mmap(nullptr, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) ThrowErrno(env, "mmap");
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  for (size_t i = 0; i < fds.size(); i++) {
    void* want = static_cast<char*>(base) + i * kPageSize;
    void* got = mmap(want, kPageSize, prot, MAP_SHARED | MAP_FIXED, fds[i], static_cast<off_t>(offsets[i]));
    if (got == MAP_FAILED) {
      int err = errno;
      munmap(base, length);
      throw ErrnoError(env, "mmap", err);
    }
  }
  return base;
}

static void FinalizeBuffer(Napi::Env, void*, MappingState* state) {
  // The ArrayBuffer is gone (collected, or detached by unmap()): nothing in JS can reach the memory.
  state->Unmap();
  state->Release();
}

Napi::Function MappingHandle::DefineClass(Napi::Env env) {
  return ObjectWrap<MappingHandle>::DefineClass(env, "MappingHandle", {
    InstanceMethod<&MappingHandle::Unmap>("unmap"),
    InstanceAccessor<&MappingHandle::GetClosed>("closed"),
    InstanceAccessor<&MappingHandle::GetAddress>("address"),
  });
}

MappingHandle::MappingHandle(const Napi::CallbackInfo& info) : ObjectWrap<MappingHandle>(info) {
  Napi::Env env = info.Env();
  void* address = nullptr;
  size_t length = 0;
  if (info.Length() >= 1 && info[0].IsArray()) {
    if (info.Length() < 3 || !info[1].IsArray()) ThrowType(env, "expected (fds[], offsets[], writable)");
    Napi::Array fdArray = info[0].As<Napi::Array>();
    Napi::Array offsetArray = info[1].As<Napi::Array>();
    bool writable = ArgBool(info, 2, "writable");
    uint32_t count = fdArray.Length();
    if (count == 0 || offsetArray.Length() != count) ThrowType(env, "fds and offsets must be non-empty and equally long");
    std::vector<int> fds(count);
    std::vector<uint64_t> offsets(count);
    for (uint32_t i = 0; i < count; i++) {
      Napi::Value fd = fdArray[i];
      Napi::Value offset = offsetArray[i];
      if (!fd.IsNumber() || !offset.IsNumber()) ThrowType(env, "fds and offsets must hold numbers");
      fds[i] = fd.As<Napi::Number>().Int32Value();
      offsets[i] = static_cast<uint64_t>(offset.As<Napi::Number>().Int64Value());
    }
    address = MapPages(env, fds, offsets, writable);
    length = count * kPageSize;
  } else {
    int fd = ArgFd(info, 0);
    uint64_t offset = ArgU64(info, 1, "offset");
    length = static_cast<size_t>(ArgU64(info, 2, "length"));
    bool writable = ArgBool(info, 3, "writable");
    if (length == 0) ThrowType(env, "length must be > 0");
    address = MapFileRange(env, fd, offset, length, writable);
  }
  state_ = new MappingState{address, length};
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, address, length, FinalizeBuffer, state_);
  buffer_ = Napi::Reference<Napi::ArrayBuffer>::New(buffer, 0);
  // A strong JS reference from the wrapper: the buffer lives at least as long as the wrapper.
  info.This().As<Napi::Object>().Set("buffer", buffer);
}

MappingHandle::~MappingHandle() {
  // Collected wrapper: the mapping stays while its ArrayBuffer may still be in use.
  if (state_ != nullptr) state_->Release();
}

Napi::Value MappingHandle::Unmap(const Napi::CallbackInfo& info) {
  if (!state_->unmapped) {
    if (!buffer_.IsEmpty()) {
      Napi::ArrayBuffer buffer = buffer_.Value();
      if (!buffer.IsEmpty() && !buffer.IsDetached()) buffer.Detach();
    }
    state_->Unmap();
  }
  return info.Env().Undefined();
}

Napi::Value MappingHandle::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_->unmapped);
}

Napi::Value MappingHandle::GetAddress(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(reinterpret_cast<uintptr_t>(state_->address)));
}

void InitMemoryMapping(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = MappingHandle::DefineClass(env);
  env.GetInstanceData<AddonData>()->mappingConstructor = Napi::Persistent(ctor);
  exports.Set("MappingHandle", ctor);
}
