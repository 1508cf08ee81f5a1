// xenipc.node: syscalls, struct packing and memory lifetime for /dev/xen/{gntdev,gntalloc,evtchn}.
// Policy and argument validation live in TypeScript (packages/core/src/native).
#include <napi.h>

#include "addon_data.h"
#include "modules.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  InitFileDescriptors(env, exports);
  InitMemoryMapping(env, exports);
  InitGntdev(env, exports);
  InitGntalloc(env, exports);
  InitEvtchn(env, exports);
  InitPortPoller(env, exports);
  InitEventSocket(env, exports);
  InitUapiConstants(env, exports);
  InitCpuYield(env, exports);
  return exports;
}

NODE_API_MODULE(xenipc, Init)
