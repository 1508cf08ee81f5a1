// Exposes the ioctl numbers, struct sizes and field offsets the addon was compiled with, so tests
// can compare them with values computed independently from the _IOC formula and the headers.
#include "modules.h"
#include "xen_uapi.h"

#define SET_NUMBER(object, name, value) (object).Set(name, Napi::Number::New(env, static_cast<double>(value)))
#define IOCTL(name) SET_NUMBER(ioctls, #name, name)
#define SIZE(type) SET_NUMBER(sizes, #type, sizeof(struct type))
#define OFFSET(type, field) SET_NUMBER(offsets, #type "." #field, offsetof(struct type, field))

void InitUapiConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object ioctls = Napi::Object::New(env);
  IOCTL(IOCTL_GNTDEV_MAP_GRANT_REF);
  IOCTL(IOCTL_GNTDEV_UNMAP_GRANT_REF);
  IOCTL(IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR);
  IOCTL(IOCTL_GNTDEV_SET_MAX_GRANTS);
  IOCTL(IOCTL_GNTDEV_SET_UNMAP_NOTIFY);
  IOCTL(IOCTL_GNTDEV_GRANT_COPY);
  IOCTL(IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS);
  IOCTL(IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED);
  IOCTL(IOCTL_GNTDEV_DMABUF_IMP_TO_REFS);
  IOCTL(IOCTL_GNTDEV_DMABUF_IMP_RELEASE);
  IOCTL(IOCTL_GNTALLOC_ALLOC_GREF);
  IOCTL(IOCTL_GNTALLOC_DEALLOC_GREF);
  IOCTL(IOCTL_GNTALLOC_SET_UNMAP_NOTIFY);
  IOCTL(IOCTL_EVTCHN_BIND_VIRQ);
  IOCTL(IOCTL_EVTCHN_BIND_INTERDOMAIN);
  IOCTL(IOCTL_EVTCHN_BIND_UNBOUND_PORT);
  IOCTL(IOCTL_EVTCHN_UNBIND);
  IOCTL(IOCTL_EVTCHN_NOTIFY);
  IOCTL(IOCTL_EVTCHN_RESET);
  IOCTL(IOCTL_EVTCHN_RESTRICT_DOMID);

  Napi::Object sizes = Napi::Object::New(env);
  SIZE(ioctl_gntdev_grant_ref);
  SIZE(ioctl_gntdev_map_grant_ref);
  SIZE(ioctl_gntdev_unmap_grant_ref);
  SIZE(ioctl_gntdev_get_offset_for_vaddr);
  SIZE(ioctl_gntdev_set_max_grants);
  SIZE(ioctl_gntdev_unmap_notify);
  SIZE(gntdev_grant_copy_segment);
  SIZE(ioctl_gntdev_grant_copy);
  SIZE(ioctl_gntdev_dmabuf_exp_from_refs);
  SIZE(ioctl_gntdev_dmabuf_exp_wait_released);
  SIZE(ioctl_gntdev_dmabuf_imp_to_refs);
  SIZE(ioctl_gntdev_dmabuf_imp_release);
  SIZE(ioctl_gntalloc_alloc_gref);
  SIZE(ioctl_gntalloc_dealloc_gref);
  SIZE(ioctl_gntalloc_unmap_notify);
  SIZE(ioctl_evtchn_bind_virq);
  SIZE(ioctl_evtchn_bind_interdomain);
  SIZE(ioctl_evtchn_bind_unbound_port);
  SIZE(ioctl_evtchn_unbind);
  SIZE(ioctl_evtchn_notify);
  SIZE(ioctl_evtchn_restrict_domid);

  Napi::Object offsets = Napi::Object::New(env);
  OFFSET(ioctl_gntdev_grant_ref, domid);
  OFFSET(ioctl_gntdev_grant_ref, ref);
  OFFSET(ioctl_gntdev_map_grant_ref, count);
  OFFSET(ioctl_gntdev_map_grant_ref, index);
  OFFSET(ioctl_gntdev_map_grant_ref, refs);
  OFFSET(ioctl_gntdev_unmap_grant_ref, index);
  OFFSET(ioctl_gntdev_unmap_grant_ref, count);
  OFFSET(ioctl_gntdev_get_offset_for_vaddr, vaddr);
  OFFSET(ioctl_gntdev_get_offset_for_vaddr, offset);
  OFFSET(ioctl_gntdev_get_offset_for_vaddr, count);
  OFFSET(ioctl_gntdev_unmap_notify, index);
  OFFSET(ioctl_gntdev_unmap_notify, action);
  OFFSET(ioctl_gntdev_unmap_notify, event_channel_port);
  OFFSET(gntdev_grant_copy_segment, source);
  OFFSET(gntdev_grant_copy_segment, dest);
  OFFSET(gntdev_grant_copy_segment, len);
  OFFSET(gntdev_grant_copy_segment, flags);
  OFFSET(gntdev_grant_copy_segment, status);
  OFFSET(gntdev_grant_copy_segment, source.foreign.ref);
  OFFSET(gntdev_grant_copy_segment, source.foreign.offset);
  OFFSET(gntdev_grant_copy_segment, source.foreign.domid);
  OFFSET(ioctl_gntdev_grant_copy, count);
  OFFSET(ioctl_gntdev_grant_copy, segments);
  OFFSET(ioctl_gntdev_dmabuf_exp_from_refs, flags);
  OFFSET(ioctl_gntdev_dmabuf_exp_from_refs, count);
  OFFSET(ioctl_gntdev_dmabuf_exp_from_refs, fd);
  OFFSET(ioctl_gntdev_dmabuf_exp_from_refs, domid);
  OFFSET(ioctl_gntdev_dmabuf_exp_from_refs, refs);
  OFFSET(ioctl_gntdev_dmabuf_exp_wait_released, fd);
  OFFSET(ioctl_gntdev_dmabuf_exp_wait_released, wait_to_ms);
  OFFSET(ioctl_gntdev_dmabuf_imp_to_refs, fd);
  OFFSET(ioctl_gntdev_dmabuf_imp_to_refs, count);
  OFFSET(ioctl_gntdev_dmabuf_imp_to_refs, domid);
  OFFSET(ioctl_gntdev_dmabuf_imp_to_refs, refs);
  OFFSET(ioctl_gntdev_dmabuf_imp_release, fd);
  OFFSET(ioctl_gntalloc_alloc_gref, domid);
  OFFSET(ioctl_gntalloc_alloc_gref, flags);
  OFFSET(ioctl_gntalloc_alloc_gref, count);
  OFFSET(ioctl_gntalloc_alloc_gref, index);
  OFFSET(ioctl_gntalloc_alloc_gref, gref_ids);
  OFFSET(ioctl_gntalloc_dealloc_gref, index);
  OFFSET(ioctl_gntalloc_dealloc_gref, count);
  OFFSET(ioctl_gntalloc_unmap_notify, index);
  OFFSET(ioctl_gntalloc_unmap_notify, action);
  OFFSET(ioctl_gntalloc_unmap_notify, event_channel_port);
  OFFSET(ioctl_evtchn_bind_interdomain, remote_domain);
  OFFSET(ioctl_evtchn_bind_interdomain, remote_port);

  Napi::Object flags = Napi::Object::New(env);
  SET_NUMBER(flags, "UNMAP_NOTIFY_CLEAR_BYTE", UNMAP_NOTIFY_CLEAR_BYTE);
  SET_NUMBER(flags, "UNMAP_NOTIFY_SEND_EVENT", UNMAP_NOTIFY_SEND_EVENT);
  SET_NUMBER(flags, "GNTALLOC_FLAG_WRITABLE", GNTALLOC_FLAG_WRITABLE);
  SET_NUMBER(flags, "GNTDEV_DMA_FLAG_WC", GNTDEV_DMA_FLAG_WC);
  SET_NUMBER(flags, "GNTDEV_DMA_FLAG_COHERENT", GNTDEV_DMA_FLAG_COHERENT);

  Napi::Object uapi = Napi::Object::New(env);
  uapi.Set("ioctls", ioctls);
  uapi.Set("sizes", sizes);
  uapi.Set("offsets", offsets);
  uapi.Set("flags", flags);
  exports.Set("uapi", uapi);
}
