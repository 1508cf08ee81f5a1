// Giving the CPU away: a waiter that spins on shared memory calls yieldCpu() between checks once
// its spin has run a while, so that a peer runnable on the same CPU (two domain processes of the
// simulated host on one vCPU, or a busy machine) gets to make the progress it waits for, instead
// of being kept off that CPU by the spin. With nothing else runnable it returns at once.
#include <sched.h>

#include "modules.h"

// yieldCpu() -> undefined (sched_yield cannot fail on Linux).
static Napi::Value YieldCpu(const Napi::CallbackInfo& info) {
  sched_yield();
  return info.Env().Undefined();
}

void InitCpuYield(Napi::Env env, Napi::Object exports) {
  exports.Set("yieldCpu", Napi::Function::New<YieldCpu>(env, "yieldCpu"));
}
