// Each file of the addon registers its functions on the exports object through one of these.
#pragma once
#include <napi.h>

void InitFileDescriptors(Napi::Env env, Napi::Object exports);
void InitMemoryMapping(Napi::Env env, Napi::Object exports);
void InitGntdev(Napi::Env env, Napi::Object exports);
void InitGntalloc(Napi::Env env, Napi::Object exports);
void InitEvtchn(Napi::Env env, Napi::Object exports);
void InitPortPoller(Napi::Env env, Napi::Object exports);
void InitEventSocket(Napi::Env env, Napi::Object exports);
void InitUapiConstants(Napi::Env env, Napi::Object exports);
void InitCpuYield(Napi::Env env, Napi::Object exports);
