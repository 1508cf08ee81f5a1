/**
 * The addon's ioctl numbers, struct sizes and field offsets against values computed here
 * independently: layouts from the field types in the uapi headers (C alignment rules, LP64),
 * ioctl numbers from the _IOC formula. If /usr/include/xen is present, the header's own list of
 * ioctls is parsed too, so a new ioctl in the header cannot go unnoticed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadAddon } from '@xenipc/core/backend-kit';

const _IOC_NONE = 0;
function IOC(dir: number, type: string, nr: number, size: number): number {
  // Linux asm-generic/ioctl.h: dir << 30 | size << 16 | type << 8 | nr
  return ((dir << 30) | (size << 16) | (type.charCodeAt(0) << 8) | nr) >>> 0;
}

type Field = [name: string, size: number, align: number, count?: number];
/** C layout of a struct: offsets of each field and the padded size. */
function layout(fields: Field[]): { size: number; offsets: Record<string, number> } {
  let offset = 0;
  let maxAlign = 1;
  const offsets: Record<string, number> = {};
  for (const [name, size, align, count = 1] of fields) {
    offset = Math.ceil(offset / align) * align;
    offsets[name] = offset;
    offset += size * count;
    maxAlign = Math.max(maxAlign, align);
  }
  return { size: Math.ceil(offset / maxAlign) * maxAlign, offsets };
}
const u16: [number, number] = [2, 2];
const u32: [number, number] = [4, 4];
const u64: [number, number] = [8, 8];
const ptr: [number, number] = [8, 8];

const grantRef = layout([['domid', ...u32], ['ref', ...u32]]);
const foreign = layout([['ref', ...u32], ['offset', ...u16], ['domid', ...u16]]);
const copyUnion = { size: Math.max(8, foreign.size), align: 8 };
const copySegment = layout([['source', copyUnion.size, copyUnion.align], ['dest', copyUnion.size, copyUnion.align], ['len', ...u16], ['flags', ...u16], ['status', ...u16]]);

const STRUCTS: Record<string, { size: number; offsets: Record<string, number> }> = {
  ioctl_gntdev_grant_ref: grantRef,
  ioctl_gntdev_map_grant_ref: layout([['count', ...u32], ['pad', ...u32], ['index', ...u64], ['refs', grantRef.size, 4, 1]]),
  ioctl_gntdev_unmap_grant_ref: layout([['index', ...u64], ['count', ...u32], ['pad', ...u32]]),
  ioctl_gntdev_get_offset_for_vaddr: layout([['vaddr', ...u64], ['offset', ...u64], ['count', ...u32], ['pad', ...u32]]),
  ioctl_gntdev_set_max_grants: layout([['count', ...u32]]),
  ioctl_gntdev_unmap_notify: layout([['index', ...u64], ['action', ...u32], ['event_channel_port', ...u32]]),
  gntdev_grant_copy_segment: copySegment,
  ioctl_gntdev_grant_copy: layout([['count', ...u32], ['segments', ...ptr]]),
  ioctl_gntdev_dmabuf_exp_from_refs: layout([['flags', ...u32], ['count', ...u32], ['fd', ...u32], ['domid', ...u32], ['refs', ...u32, 1]]),
  ioctl_gntdev_dmabuf_exp_wait_released: layout([['fd', ...u32], ['wait_to_ms', ...u32]]),
  ioctl_gntdev_dmabuf_imp_to_refs: layout([['fd', ...u32], ['count', ...u32], ['domid', ...u32], ['reserved', ...u32], ['refs', ...u32, 1]]),
  ioctl_gntdev_dmabuf_imp_release: layout([['fd', ...u32], ['reserved', ...u32]]),
  ioctl_gntalloc_alloc_gref: layout([['domid', ...u16], ['flags', ...u16], ['count', ...u32], ['index', ...u64], ['gref_ids', ...u32, 1]]),
  ioctl_gntalloc_dealloc_gref: layout([['index', ...u64], ['count', ...u32]]),
  ioctl_gntalloc_unmap_notify: layout([['index', ...u64], ['action', ...u32], ['event_channel_port', ...u32]]),
  ioctl_evtchn_bind_virq: layout([['virq', ...u32]]),
  ioctl_evtchn_bind_interdomain: layout([['remote_domain', ...u32], ['remote_port', ...u32]]),
  ioctl_evtchn_bind_unbound_port: layout([['remote_domain', ...u32]]),
  ioctl_evtchn_unbind: layout([['port', ...u32]]),
  ioctl_evtchn_notify: layout([['port', ...u32]]),
  ioctl_evtchn_restrict_domid: layout([['domid', ...u16]]),
};

/** [ioctl, type, nr, struct (undefined: size 0)] as declared in the headers. */
const IOCTLS: Array<[string, string, number, string | undefined]> = [
  ['IOCTL_GNTDEV_MAP_GRANT_REF', 'G', 0, 'ioctl_gntdev_map_grant_ref'],
  ['IOCTL_GNTDEV_UNMAP_GRANT_REF', 'G', 1, 'ioctl_gntdev_unmap_grant_ref'],
  ['IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR', 'G', 2, 'ioctl_gntdev_get_offset_for_vaddr'],
  ['IOCTL_GNTDEV_SET_MAX_GRANTS', 'G', 3, 'ioctl_gntdev_set_max_grants'],
  ['IOCTL_GNTDEV_SET_UNMAP_NOTIFY', 'G', 7, 'ioctl_gntdev_unmap_notify'],
  ['IOCTL_GNTDEV_GRANT_COPY', 'G', 8, 'ioctl_gntdev_grant_copy'],
  ['IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS', 'G', 9, 'ioctl_gntdev_dmabuf_exp_from_refs'],
  ['IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED', 'G', 10, 'ioctl_gntdev_dmabuf_exp_wait_released'],
  ['IOCTL_GNTDEV_DMABUF_IMP_TO_REFS', 'G', 11, 'ioctl_gntdev_dmabuf_imp_to_refs'],
  ['IOCTL_GNTDEV_DMABUF_IMP_RELEASE', 'G', 12, 'ioctl_gntdev_dmabuf_imp_release'],
  ['IOCTL_GNTALLOC_ALLOC_GREF', 'G', 5, 'ioctl_gntalloc_alloc_gref'],
  ['IOCTL_GNTALLOC_DEALLOC_GREF', 'G', 6, 'ioctl_gntalloc_dealloc_gref'],
  ['IOCTL_GNTALLOC_SET_UNMAP_NOTIFY', 'G', 7, 'ioctl_gntalloc_unmap_notify'],
  ['IOCTL_EVTCHN_BIND_VIRQ', 'E', 0, 'ioctl_evtchn_bind_virq'],
  ['IOCTL_EVTCHN_BIND_INTERDOMAIN', 'E', 1, 'ioctl_evtchn_bind_interdomain'],
  ['IOCTL_EVTCHN_BIND_UNBOUND_PORT', 'E', 2, 'ioctl_evtchn_bind_unbound_port'],
  ['IOCTL_EVTCHN_UNBIND', 'E', 3, 'ioctl_evtchn_unbind'],
  ['IOCTL_EVTCHN_NOTIFY', 'E', 4, 'ioctl_evtchn_notify'],
  ['IOCTL_EVTCHN_RESET', 'E', 5, undefined],
  ['IOCTL_EVTCHN_RESTRICT_DOMID', 'E', 6, 'ioctl_evtchn_restrict_domid'],
];

const { uapi } = loadAddon();

describe('uapi layout compiled into the addon', () => {
  it.each(Object.entries(STRUCTS))('sizeof(struct %s)', (name, expected) => {
    expect(uapi.sizes[name]).toBe(expected.size);
  });

  it('field offsets', () => {
    const checked: string[] = [];
    for (const [key, actual] of Object.entries(uapi.offsets)) {
      const [struct, ...path] = key.split('.');
      const field = path.join('.');
      const expected = field.startsWith('source.foreign.')
        ? (STRUCTS.gntdev_grant_copy_segment?.offsets.source ?? NaN) + (foreign.offsets[field.slice('source.foreign.'.length)] ?? NaN)
        : STRUCTS[struct as string]?.offsets[field];
      expect({ key, offset: actual }).toEqual({ key, offset: expected });
      checked.push(key);
    }
    expect(checked.length).toBeGreaterThan(40);
  });

  it.each(IOCTLS)('%s = _IOC(_IOC_NONE, %s, %i, size)', (name, type, nr, struct) => {
    const size = struct === undefined ? 0 : (STRUCTS[struct]?.size ?? NaN);
    expect(uapi.ioctls[name]).toBe(IOC(_IOC_NONE, type, nr, size));
  });

  it('flag values', () => {
    expect(uapi.flags).toEqual({ UNMAP_NOTIFY_CLEAR_BYTE: 1, UNMAP_NOTIFY_SEND_EVENT: 2, GNTALLOC_FLAG_WRITABLE: 1, GNTDEV_DMA_FLAG_WC: 1, GNTDEV_DMA_FLAG_COHERENT: 2 });
  });
});

const HEADERS = ['/usr/include/xen/gntdev.h', '/usr/include/xen/gntalloc.h', '/usr/include/xen/evtchn.h'];
const haveHeaders = HEADERS.every((h) => existsSync(h));

describe.skipIf(!haveHeaders)(`every ioctl declared in ${haveHeaders ? 'the uapi headers' : 'the uapi headers (skipped: /usr/include/xen absent)'}`, () => {
  it('is wrapped, with the header\'s type, number and struct', () => {
    const declared: Array<[string, string, number, string | undefined]> = [];
    for (const header of HEADERS) {
      const text = readFileSync(header, 'utf8').replace(/\\\n/g, ' ');
      for (const m of text.matchAll(/#define\s+(IOCTL_\w+)\s+_IOC\(\s*_IOC_NONE\s*,\s*'(\w)'\s*,\s*(\d+)\s*,\s*(?:sizeof\(struct (\w+)\)|0)\s*\)/g)) {
        declared.push([m[1] as string, m[2] as string, Number(m[3]), m[4]]);
      }
    }
    // BIND_STATIC exists in newer headers only; it is out of scope of this addon.
    const wrapped = declared.filter(([name]) => name !== 'IOCTL_EVTCHN_BIND_STATIC');
    expect(wrapped.sort()).toEqual([...IOCTLS].sort());
  });
});
