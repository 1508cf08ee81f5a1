// /dev/xen/gntdev: map other domains' grants into this process (the vchan client side).
// Every function takes the device fd first; TS validates values, C++ only packs structs and
// keeps kernel-visible pointers inside the JS buffers they come from.
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "errno_error.h"
#include "modules.h"
#include "xen_uapi.h"

static Napi::Uint32Array ArgU32Array(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    ThrowType(info.Env(), std::string(name) + " must be a Uint32Array");
  }
  return info[i].As<Napi::Uint32Array>();
}

// mapGrantRef(fd, domids: Uint32Array, refs: Uint32Array) -> mmap offset (index)
static Napi::Value MapGrantRef(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  Napi::Uint32Array domids = ArgU32Array(info, 1, "domids");
  Napi::Uint32Array refs = ArgU32Array(info, 2, "refs");
  uint32_t count = static_cast<uint32_t>(refs.ElementLength());
  if (count == 0 || domids.ElementLength() != count) ThrowType(info.Env(), "domids and refs must be non-empty and equally long");
  VariableIoctlArg<ioctl_gntdev_map_grant_ref, ioctl_gntdev_grant_ref> arg(offsetof(ioctl_gntdev_map_grant_ref, refs), count);
  ioctl_gntdev_map_grant_ref* op = arg.get();
  op->count = count;
  for (uint32_t i = 0; i < count; i++) {
    op->refs[i].domid = domids[i];
    op->refs[i].ref = refs[i];
  }
  if (ioctl(fd, IOCTL_GNTDEV_MAP_GRANT_REF, op) < 0) ThrowErrno(info.Env(), "IOCTL_GNTDEV_MAP_GRANT_REF");
  return Napi::Number::New(info.Env(), static_cast<double>(op->index));
}

// unmapGrantRef(fd, index, count)
static Napi::Value UnmapGrantRef(const Napi::CallbackInfo& info) {
  ioctl_gntdev_unmap_grant_ref op{};
  int fd = ArgFd(info, 0);
  op.index = ArgU64(info, 1, "index");
  op.count = ArgU32(info, 2, "count");
  if (ioctl(fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &op) < 0) ThrowErrno(info.Env(), "IOCTL_GNTDEV_UNMAP_GRANT_REF");
  return info.Env().Undefined();
}

// getOffsetForVaddr(fd, vaddr) -> { offset, count }
static Napi::Value GetOffsetForVaddr(const Napi::CallbackInfo& info) {
  ioctl_gntdev_get_offset_for_vaddr op{};
  int fd = ArgFd(info, 0);
  op.vaddr = ArgU64(info, 1, "vaddr");
  if (ioctl(fd, IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR, &op) < 0) ThrowErrno(info.Env(), "IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR");
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("offset", Napi::Number::New(info.Env(), static_cast<double>(op.offset)));
  result.Set("count", Napi::Number::New(info.Env(), op.count));
  return result;
}

// setMaxGrants(fd, count)
static Napi::Value SetMaxGrants(const Napi::CallbackInfo& info) {
  ioctl_gntdev_set_max_grants op{};
  int fd = ArgFd(info, 0);
  op.count = ArgU32(info, 1, "count");
  if (ioctl(fd, IOCTL_GNTDEV_SET_MAX_GRANTS, &op) < 0) ThrowErrno(info.Env(), "IOCTL_GNTDEV_SET_MAX_GRANTS");
  return info.Env().Undefined();
}

// gntdevSetUnmapNotify(fd, index, action, port)
static Napi::Value SetUnmapNotify(const Napi::CallbackInfo& info) {
  ioctl_gntdev_unmap_notify op{};
  int fd = ArgFd(info, 0);
  op.index = ArgU64(info, 1, "index");
  op.action = ArgU32(info, 2, "action");
  op.event_channel_port = ArgU32(info, 3, "port");
  if (ioctl(fd, IOCTL_GNTDEV_SET_UNMAP_NOTIFY, &op) < 0) ThrowErrno(info.Env(), "IOCTL_GNTDEV_SET_UNMAP_NOTIFY");
  return info.Env().Undefined();
}

static uint32_t FieldU32(Napi::Object object, const char* name) {
  Napi::Value value = object.Get(name);
  if (!value.IsNumber()) ThrowType(object.Env(), std::string("grant copy segment field ") + name + " must be a number");
  return value.As<Napi::Number>().Uint32Value();
}

// The local side of a copy: a pointer into a JS buffer, bounds-checked here because the kernel
// will read or write `len` bytes there.
static void* LocalPointer(Napi::Object segment, const char* bufferField, const char* offsetField, uint32_t len) {
  Napi::Value value = segment.Get(bufferField);
  if (!value.IsTypedArray()) ThrowType(segment.Env(), std::string(bufferField) + " must be a typed array");
  Napi::TypedArray view = value.As<Napi::TypedArray>();
  uint32_t offset = FieldU32(segment, offsetField);
  if (static_cast<uint64_t>(offset) + len > view.ByteLength()) {
    throw Napi::RangeError::New(segment.Env(), std::string(bufferField) + " is too small for the segment");
  }
  uint8_t* base = static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
  return base + offset;
}

// grantCopy(fd, segments[]) -> Int16Array of GNTST_* statuses, one per segment.
// Segment: { flags, len, sourceRef/sourceOffset/sourceDomid | sourceBuffer/sourceByteOffset,
//            destRef/destOffset/destDomid | destBuffer/destByteOffset }
static Napi::Value GrantCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  if (info.Length() < 2 || !info[1].IsArray()) ThrowType(env, "segments must be an array");
  Napi::Array list = info[1].As<Napi::Array>();
  uint32_t count = list.Length();
  std::vector<gntdev_grant_copy_segment> segments(count);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value item = list[i];
    if (!item.IsObject()) ThrowType(env, "each segment must be an object");
    Napi::Object segment = item.As<Napi::Object>();
    gntdev_grant_copy_segment& s = segments[i];
    std::memset(&s, 0, sizeof(s));
    s.flags = static_cast<uint16_t>(FieldU32(segment, "flags"));
    s.len = static_cast<uint16_t>(FieldU32(segment, "len"));
    if (s.flags & kGntcopySourceGref) {
      s.source.foreign.ref = FieldU32(segment, "sourceRef");
      s.source.foreign.offset = static_cast<uint16_t>(FieldU32(segment, "sourceOffset"));
      s.source.foreign.domid = static_cast<domid_t>(FieldU32(segment, "sourceDomid"));
    } else {
      s.source.virt = LocalPointer(segment, "sourceBuffer", "sourceByteOffset", s.len);
    }
    if (s.flags & kGntcopyDestGref) {
      s.dest.foreign.ref = FieldU32(segment, "destRef");
      s.dest.foreign.offset = static_cast<uint16_t>(FieldU32(segment, "destOffset"));
      s.dest.foreign.domid = static_cast<domid_t>(FieldU32(segment, "destDomid"));
    } else {
      s.dest.virt = LocalPointer(segment, "destBuffer", "destByteOffset", s.len);
    }
  }
  ioctl_gntdev_grant_copy op{};
  op.count = count;
  op.segments = segments.data();
  if (ioctl(fd, IOCTL_GNTDEV_GRANT_COPY, &op) < 0) ThrowErrno(env, "IOCTL_GNTDEV_GRANT_COPY");
  Napi::Int16Array statuses = Napi::Int16Array::New(env, count);
  for (uint32_t i = 0; i < count; i++) statuses[i] = segments[i].status;
  return statuses;
}

// dmabufExportFromRefs(fd, flags, domid, refs: Uint32Array) -> dma-buf fd
static Napi::Value DmabufExportFromRefs(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  uint32_t flags = ArgU32(info, 1, "flags");
  uint32_t domid = ArgU32(info, 2, "domid");
  Napi::Uint32Array refs = ArgU32Array(info, 3, "refs");
  uint32_t count = static_cast<uint32_t>(refs.ElementLength());
  if (count == 0) ThrowType(info.Env(), "refs must not be empty");
  VariableIoctlArg<ioctl_gntdev_dmabuf_exp_from_refs, uint32_t> arg(offsetof(ioctl_gntdev_dmabuf_exp_from_refs, refs), count);
  ioctl_gntdev_dmabuf_exp_from_refs* op = arg.get();
  op->flags = flags;
  op->count = count;
  op->domid = domid;
  for (uint32_t i = 0; i < count; i++) op->refs[i] = refs[i];
  if (ioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op) < 0) ThrowErrno(info.Env(), "IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS");
  return Napi::Number::New(info.Env(), op->fd);
}

// Waiting for a dma-buf's release blocks in the kernel: run it on the libuv thread pool.
class WaitReleasedWorker : public Napi::AsyncWorker {
 public:
  WaitReleasedWorker(Napi::Env env, int fd, uint32_t dmabufFd, uint32_t timeoutMs)
      : Napi::AsyncWorker(env, "xenipc.dmabufWaitReleased"), deferred_(Napi::Promise::Deferred::New(env)) {
    op_.fd = dmabufFd;
    op_.wait_to_ms = timeoutMs;
    fd_ = fd;
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    if (ioctl(fd_, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &op_) < 0) error_ = errno;
  }
  void OnOK() override {
    Napi::HandleScope scope(Env());
    if (error_ != 0) {
      deferred_.Reject(ErrnoError(Env(), "IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED", error_).Value());
    } else {
      deferred_.Resolve(Env().Undefined());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  ioctl_gntdev_dmabuf_exp_wait_released op_{};
  int fd_;
  int error_ = 0;
};

// dmabufExportWaitReleased(fd, dmabufFd, timeoutMs) -> Promise<void>
static Napi::Value DmabufExportWaitReleased(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  uint32_t dmabufFd = ArgU32(info, 1, "dmabufFd");
  uint32_t timeoutMs = ArgU32(info, 2, "timeoutMs");
  auto* worker = new WaitReleasedWorker(info.Env(), fd, dmabufFd, timeoutMs);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// dmabufImportToRefs(fd, dmabufFd, count, domid) -> Uint32Array of grant refs
static Napi::Value DmabufImportToRefs(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  uint32_t dmabufFd = ArgU32(info, 1, "dmabufFd");
  uint32_t count = ArgU32(info, 2, "count");
  uint32_t domid = ArgU32(info, 3, "domid");
  if (count == 0 || count > (1u << 20)) ThrowType(info.Env(), "count out of range");
  VariableIoctlArg<ioctl_gntdev_dmabuf_imp_to_refs, uint32_t> arg(offsetof(ioctl_gntdev_dmabuf_imp_to_refs, refs), count);
  ioctl_gntdev_dmabuf_imp_to_refs* op = arg.get();
  op->fd = dmabufFd;
  op->count = count;
  op->domid = domid;
  if (ioctl(fd, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op) < 0) ThrowErrno(info.Env(), "IOCTL_GNTDEV_DMABUF_IMP_TO_REFS");
  Napi::Uint32Array refs = Napi::Uint32Array::New(info.Env(), count);
  for (uint32_t i = 0; i < count; i++) refs[i] = op->refs[i];
  return refs;
}

// dmabufImportRelease(fd, dmabufFd)
static Napi::Value DmabufImportRelease(const Napi::CallbackInfo& info) {
  ioctl_gntdev_dmabuf_imp_release op{};
  int fd = ArgFd(info, 0);
  op.fd = ArgU32(info, 1, "dmabufFd");
  if (ioctl(fd, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, &op) < 0) ThrowErrno(info.Env(), "IOCTL_GNTDEV_DMABUF_IMP_RELEASE");
  return info.Env().Undefined();
}

void InitGntdev(Napi::Env env, Napi::Object exports) {
  exports.Set("gntdevMapGrantRef", Napi::Function::New<MapGrantRef>(env));
  exports.Set("gntdevUnmapGrantRef", Napi::Function::New<UnmapGrantRef>(env));
  exports.Set("gntdevGetOffsetForVaddr", Napi::Function::New<GetOffsetForVaddr>(env));
  exports.Set("gntdevSetMaxGrants", Napi::Function::New<SetMaxGrants>(env));
  exports.Set("gntdevSetUnmapNotify", Napi::Function::New<SetUnmapNotify>(env));
  exports.Set("gntdevGrantCopy", Napi::Function::New<GrantCopy>(env));
  exports.Set("gntdevDmabufExportFromRefs", Napi::Function::New<DmabufExportFromRefs>(env));
  exports.Set("gntdevDmabufExportWaitReleased", Napi::Function::New<DmabufExportWaitReleased>(env));
  exports.Set("gntdevDmabufImportToRefs", Napi::Function::New<DmabufImportToRefs>(env));
  exports.Set("gntdevDmabufImportRelease", Napi::Function::New<DmabufImportRelease>(env));
}
