// Failed syscalls become JS errors carrying the errno number and the syscall name; the TS layer
// turns them into XenError with a sentence that fits the device and the operation.
#pragma once
#include <napi.h>
#include <string>

// Builds (does not throw) an Error with .errno (positive), .code ("ENOENT") and .syscall.
Napi::Error ErrnoError(Napi::Env env, const std::string& syscall, int err);

// Throws ErrnoError for the current errno.
[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& syscall);

// Throws a TypeError (bad argument shape; TS validates values before reaching C++).
[[noreturn]] void ThrowType(Napi::Env env, const std::string& message);

// Argument readers that throw TypeError on a wrong JS type.
uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name);
int ArgFd(const Napi::CallbackInfo& info, size_t i);
// A non-negative integral Number below 2^53 (file offsets, mmap indexes, addresses).
uint64_t ArgU64(const Napi::CallbackInfo& info, size_t i, const char* name);
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name);
