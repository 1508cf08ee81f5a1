// /dev/xen/evtchn: bind, notify and unbind event-channel ports. Delivery of pending ports is
// port_poller.cc. The bind ioctls return the local port as the ioctl's return value.
#include <sys/ioctl.h>

#include "errno_error.h"
#include "modules.h"
#include "xen_uapi.h"

static Napi::Value PortResult(const Napi::CallbackInfo& info, int rc, const char* name) {
  if (rc < 0) ThrowErrno(info.Env(), name);
  return Napi::Number::New(info.Env(), rc);
}

// evtchnBindVirq(fd, virq) -> port
static Napi::Value BindVirq(const Napi::CallbackInfo& info) {
  ioctl_evtchn_bind_virq op{};
  int fd = ArgFd(info, 0);
  op.virq = ArgU32(info, 1, "virq");
  return PortResult(info, ioctl(fd, IOCTL_EVTCHN_BIND_VIRQ, &op), "IOCTL_EVTCHN_BIND_VIRQ");
}

// evtchnBindInterdomain(fd, remoteDomain, remotePort) -> port
static Napi::Value BindInterdomain(const Napi::CallbackInfo& info) {
  ioctl_evtchn_bind_interdomain op{};
  int fd = ArgFd(info, 0);
  op.remote_domain = ArgU32(info, 1, "remoteDomain");
  op.remote_port = ArgU32(info, 2, "remotePort");
  return PortResult(info, ioctl(fd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &op), "IOCTL_EVTCHN_BIND_INTERDOMAIN");
}

// evtchnBindUnboundPort(fd, remoteDomain) -> port
static Napi::Value BindUnboundPort(const Napi::CallbackInfo& info) {
  ioctl_evtchn_bind_unbound_port op{};
  int fd = ArgFd(info, 0);
  op.remote_domain = ArgU32(info, 1, "remoteDomain");
  return PortResult(info, ioctl(fd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &op), "IOCTL_EVTCHN_BIND_UNBOUND_PORT");
}

// evtchnUnbind(fd, port)
static Napi::Value Unbind(const Napi::CallbackInfo& info) {
  ioctl_evtchn_unbind op{};
  int fd = ArgFd(info, 0);
  op.port = ArgU32(info, 1, "port");
  if (ioctl(fd, IOCTL_EVTCHN_UNBIND, &op) < 0) ThrowErrno(info.Env(), "IOCTL_EVTCHN_UNBIND");
  return info.Env().Undefined();
}

// evtchnNotify(fd, port)
static Napi::Value Notify(const Napi::CallbackInfo& info) {
  ioctl_evtchn_notify op{};
  int fd = ArgFd(info, 0);
  op.port = ArgU32(info, 1, "port");
  if (ioctl(fd, IOCTL_EVTCHN_NOTIFY, &op) < 0) ThrowErrno(info.Env(), "IOCTL_EVTCHN_NOTIFY");
  return info.Env().Undefined();
}

// evtchnReset(fd): clears the pending ring and its overflow flag.
static Napi::Value Reset(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  if (ioctl(fd, IOCTL_EVTCHN_RESET, 0) < 0) ThrowErrno(info.Env(), "IOCTL_EVTCHN_RESET");
  return info.Env().Undefined();
}

// evtchnRestrictDomid(fd, domid): irreversible.
static Napi::Value RestrictDomid(const Napi::CallbackInfo& info) {
  ioctl_evtchn_restrict_domid op{};
  int fd = ArgFd(info, 0);
  op.domid = static_cast<domid_t>(ArgU32(info, 1, "domid"));
  if (ioctl(fd, IOCTL_EVTCHN_RESTRICT_DOMID, &op) < 0) ThrowErrno(info.Env(), "IOCTL_EVTCHN_RESTRICT_DOMID");
  return info.Env().Undefined();
}

void InitEvtchn(Napi::Env env, Napi::Object exports) {
  exports.Set("evtchnBindVirq", Napi::Function::New<BindVirq>(env));
  exports.Set("evtchnBindInterdomain", Napi::Function::New<BindInterdomain>(env));
  exports.Set("evtchnBindUnboundPort", Napi::Function::New<BindUnboundPort>(env));
  exports.Set("evtchnUnbind", Napi::Function::New<Unbind>(env));
  exports.Set("evtchnNotify", Napi::Function::New<Notify>(env));
  exports.Set("evtchnReset", Napi::Function::New<Reset>(env));
  exports.Set("evtchnRestrictDomid", Napi::Function::New<RestrictDomid>(env));
}
