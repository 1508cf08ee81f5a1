// /dev/xen/gntalloc: grant pages of our own memory to another domain (the vchan server side).
#include <sys/ioctl.h>

#include "errno_error.h"
#include "modules.h"
#include "xen_uapi.h"

// gntallocAllocGref(fd, domid, flags, count) -> { index, refs: Uint32Array }
static Napi::Value AllocGref(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  uint32_t domid = ArgU32(info, 1, "domid");
  uint32_t flags = ArgU32(info, 2, "flags");
  uint32_t count = ArgU32(info, 3, "count");
  if (count == 0 || count > (1u << 20)) ThrowType(info.Env(), "count out of range");
  VariableIoctlArg<ioctl_gntalloc_alloc_gref, uint32_t> arg(offsetof(ioctl_gntalloc_alloc_gref, gref_ids), count);
  ioctl_gntalloc_alloc_gref* op = arg.get();
  op->domid = static_cast<uint16_t>(domid);
  op->flags = static_cast<uint16_t>(flags);
  op->count = count;
  if (ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op) < 0) ThrowErrno(info.Env(), "IOCTL_GNTALLOC_ALLOC_GREF");
  Napi::Uint32Array refs = Napi::Uint32Array::New(info.Env(), count);
  for (uint32_t i = 0; i < count; i++) refs[i] = op->gref_ids[i];
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("index", Napi::Number::New(info.Env(), static_cast<double>(op->index)));
  result.Set("refs", refs);
  return result;
}

// gntallocDeallocGref(fd, index, count)
static Napi::Value DeallocGref(const Napi::CallbackInfo& info) {
  ioctl_gntalloc_dealloc_gref op{};
  int fd = ArgFd(info, 0);
  op.index = ArgU64(info, 1, "index");
  op.count = ArgU32(info, 2, "count");
  if (ioctl(fd, IOCTL_GNTALLOC_DEALLOC_GREF, &op) < 0) ThrowErrno(info.Env(), "IOCTL_GNTALLOC_DEALLOC_GREF");
  return info.Env().Undefined();
}

// gntallocSetUnmapNotify(fd, index, action, port); index = mmap offset of the page + byte in page
static Napi::Value SetUnmapNotify(const Napi::CallbackInfo& info) {
  ioctl_gntalloc_unmap_notify op{};
  int fd = ArgFd(info, 0);
  op.index = ArgU64(info, 1, "index");
  op.action = ArgU32(info, 2, "action");
  op.event_channel_port = ArgU32(info, 3, "port");
  if (ioctl(fd, IOCTL_GNTALLOC_SET_UNMAP_NOTIFY, &op) < 0) ThrowErrno(info.Env(), "IOCTL_GNTALLOC_SET_UNMAP_NOTIFY");
  return info.Env().Undefined();
}

void InitGntalloc(Napi::Env env, Napi::Object exports) {
  exports.Set("gntallocAllocGref", Napi::Function::New<AllocGref>(env));
  exports.Set("gntallocDeallocGref", Napi::Function::New<DeallocGref>(env));
  exports.Set("gntallocSetUnmapNotify", Napi::Function::New<SetUnmapNotify>(env));
}
