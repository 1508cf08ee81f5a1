// The Linux uapi headers for the Xen devices, plus compile-time pins of every struct size and
// field offset the addon relies on (x86_64 / aarch64 LP64 values of Linux's include/uapi/xen/{gntdev,gntalloc,evtchn}.h). If a
// header ever changes layout the build fails here instead of corrupting an ioctl.
#pragma once
#include <linux/ioctl.h>
#include <linux/types.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <vector>

// The uapi headers expect these Xen types to exist already.
typedef uint16_t domid_t;
typedef uint32_t grant_ref_t;

#include <xen/evtchn.h>
#include <xen/gntalloc.h>
#include <xen/gntdev.h>

static_assert(sizeof(void*) == 8, "xenipc supports 64-bit Linux only");

// gntdev
static_assert(sizeof(struct ioctl_gntdev_grant_ref) == 8);
static_assert(offsetof(struct ioctl_gntdev_grant_ref, domid) == 0);
static_assert(offsetof(struct ioctl_gntdev_grant_ref, ref) == 4);
static_assert(sizeof(struct ioctl_gntdev_map_grant_ref) == 24);
static_assert(offsetof(struct ioctl_gntdev_map_grant_ref, count) == 0);
static_assert(offsetof(struct ioctl_gntdev_map_grant_ref, index) == 8);
static_assert(offsetof(struct ioctl_gntdev_map_grant_ref, refs) == 16);
static_assert(sizeof(struct ioctl_gntdev_unmap_grant_ref) == 16);
static_assert(offsetof(struct ioctl_gntdev_unmap_grant_ref, index) == 0);
static_assert(offsetof(struct ioctl_gntdev_unmap_grant_ref, count) == 8);
static_assert(sizeof(struct ioctl_gntdev_get_offset_for_vaddr) == 24);
static_assert(offsetof(struct ioctl_gntdev_get_offset_for_vaddr, vaddr) == 0);
static_assert(offsetof(struct ioctl_gntdev_get_offset_for_vaddr, offset) == 8);
static_assert(offsetof(struct ioctl_gntdev_get_offset_for_vaddr, count) == 16);
static_assert(sizeof(struct ioctl_gntdev_set_max_grants) == 4);
static_assert(sizeof(struct ioctl_gntdev_unmap_notify) == 16);
static_assert(offsetof(struct ioctl_gntdev_unmap_notify, index) == 0);
static_assert(offsetof(struct ioctl_gntdev_unmap_notify, action) == 8);
static_assert(offsetof(struct ioctl_gntdev_unmap_notify, event_channel_port) == 12);
static_assert(sizeof(struct gntdev_grant_copy_segment) == 24);
static_assert(offsetof(struct gntdev_grant_copy_segment, source) == 0);
static_assert(offsetof(struct gntdev_grant_copy_segment, dest) == 8);
static_assert(offsetof(struct gntdev_grant_copy_segment, len) == 16);
static_assert(offsetof(struct gntdev_grant_copy_segment, flags) == 18);
static_assert(offsetof(struct gntdev_grant_copy_segment, status) == 20);
static_assert(offsetof(struct gntdev_grant_copy_segment, source.foreign.ref) == 0);
static_assert(offsetof(struct gntdev_grant_copy_segment, source.foreign.offset) == 4);
static_assert(offsetof(struct gntdev_grant_copy_segment, source.foreign.domid) == 6);
static_assert(sizeof(struct ioctl_gntdev_grant_copy) == 16);
static_assert(offsetof(struct ioctl_gntdev_grant_copy, count) == 0);
static_assert(offsetof(struct ioctl_gntdev_grant_copy, segments) == 8);
static_assert(sizeof(struct ioctl_gntdev_dmabuf_exp_from_refs) == 20);
static_assert(offsetof(struct ioctl_gntdev_dmabuf_exp_from_refs, flags) == 0);
static_assert(offsetof(struct ioctl_gntdev_dmabuf_exp_from_refs, count) == 4);
static_assert(offsetof(struct ioctl_gntdev_dmabuf_exp_from_refs, fd) == 8);
static_assert(offsetof(struct ioctl_gntdev_dmabuf_exp_from_refs, domid) == 12);
static_assert(offsetof(struct ioctl_gntdev_dmabuf_exp_from_refs, refs) == 16);
static_assert(sizeof(struct ioctl_gntdev_dmabuf_exp_wait_released) == 8);
static_assert(offsetof(struct ioctl_gntdev_dmabuf_exp_wait_released, fd) == 0);
static_assert(offsetof(struct ioctl_gntdev_dmabuf_exp_wait_released, wait_to_ms) == 4);
static_assert(sizeof(struct ioctl_gntdev_dmabuf_imp_to_refs) == 20);
static_assert(offsetof(struct ioctl_gntdev_dmabuf_imp_to_refs, fd) == 0);
static_assert(offsetof(struct ioctl_gntdev_dmabuf_imp_to_refs, count) == 4);
static_assert(offsetof(struct ioctl_gntdev_dmabuf_imp_to_refs, domid) == 8);
static_assert(offsetof(struct ioctl_gntdev_dmabuf_imp_to_refs, refs) == 16);
static_assert(sizeof(struct ioctl_gntdev_dmabuf_imp_release) == 8);
static_assert(offsetof(struct ioctl_gntdev_dmabuf_imp_release, fd) == 0);

// gntalloc
static_assert(sizeof(struct ioctl_gntalloc_alloc_gref) == 24);
static_assert(offsetof(struct ioctl_gntalloc_alloc_gref, domid) == 0);
static_assert(offsetof(struct ioctl_gntalloc_alloc_gref, flags) == 2);
static_assert(offsetof(struct ioctl_gntalloc_alloc_gref, count) == 4);
static_assert(offsetof(struct ioctl_gntalloc_alloc_gref, index) == 8);
static_assert(offsetof(struct ioctl_gntalloc_alloc_gref, gref_ids) == 16);
static_assert(sizeof(struct ioctl_gntalloc_dealloc_gref) == 16);
static_assert(offsetof(struct ioctl_gntalloc_dealloc_gref, index) == 0);
static_assert(offsetof(struct ioctl_gntalloc_dealloc_gref, count) == 8);
static_assert(sizeof(struct ioctl_gntalloc_unmap_notify) == 16);
static_assert(offsetof(struct ioctl_gntalloc_unmap_notify, index) == 0);
static_assert(offsetof(struct ioctl_gntalloc_unmap_notify, action) == 8);
static_assert(offsetof(struct ioctl_gntalloc_unmap_notify, event_channel_port) == 12);

// evtchn
static_assert(sizeof(struct ioctl_evtchn_bind_virq) == 4);
static_assert(sizeof(struct ioctl_evtchn_bind_interdomain) == 8);
static_assert(offsetof(struct ioctl_evtchn_bind_interdomain, remote_domain) == 0);
static_assert(offsetof(struct ioctl_evtchn_bind_interdomain, remote_port) == 4);
static_assert(sizeof(struct ioctl_evtchn_bind_unbound_port) == 4);
static_assert(sizeof(struct ioctl_evtchn_unbind) == 4);
static_assert(sizeof(struct ioctl_evtchn_notify) == 4);
static_assert(sizeof(struct ioctl_evtchn_restrict_domid) == 2);

// The ioctl numbers themselves (Linux's include/uapi/xen/*.h).
static_assert(IOCTL_GNTDEV_MAP_GRANT_REF == 0x184700);
static_assert(IOCTL_GNTDEV_UNMAP_GRANT_REF == 0x104701);
static_assert(IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR == 0x184702);
static_assert(IOCTL_GNTDEV_SET_MAX_GRANTS == 0x44703);
static_assert(IOCTL_GNTDEV_SET_UNMAP_NOTIFY == 0x104707);
static_assert(IOCTL_GNTDEV_GRANT_COPY == 0x104708);
static_assert(IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS == 0x144709);
static_assert(IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED == 0x8470a);
static_assert(IOCTL_GNTDEV_DMABUF_IMP_TO_REFS == 0x14470b);
static_assert(IOCTL_GNTDEV_DMABUF_IMP_RELEASE == 0x8470c);
static_assert(IOCTL_GNTALLOC_ALLOC_GREF == 0x184705);
static_assert(IOCTL_GNTALLOC_DEALLOC_GREF == 0x104706);
static_assert(IOCTL_GNTALLOC_SET_UNMAP_NOTIFY == 0x104707);
static_assert(IOCTL_EVTCHN_BIND_VIRQ == 0x44500);
static_assert(IOCTL_EVTCHN_BIND_INTERDOMAIN == 0x84501);
static_assert(IOCTL_EVTCHN_BIND_UNBOUND_PORT == 0x44502);
static_assert(IOCTL_EVTCHN_UNBIND == 0x44503);
static_assert(IOCTL_EVTCHN_NOTIFY == 0x44504);
static_assert(IOCTL_EVTCHN_RESET == 0x4505);
static_assert(IOCTL_EVTCHN_RESTRICT_DOMID == 0x24506);

// Grant-copy flags and status, from Xen's public grant_table.h (not in the Linux uapi headers).
constexpr uint16_t kGntcopySourceGref = 1;
constexpr uint16_t kGntcopyDestGref = 2;

// Variable-length ioctl argument: a struct whose last member is a 1-element array, grown to
// `count` elements. 8-byte aligned storage; never smaller than sizeof(Struct).
template <typename Struct, typename Element>
class VariableIoctlArg {
 public:
  VariableIoctlArg(size_t arrayOffset, uint32_t count)
      : storage_((std::max(sizeof(Struct), arrayOffset + count * sizeof(Element)) + 7) / 8, 0) {}
  Struct* get() { return reinterpret_cast<Struct*>(storage_.data()); }

 private:
  std::vector<uint64_t> storage_;
};
