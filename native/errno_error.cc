#include "errno_error.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <uv.h>

Napi::Error ErrnoError(Napi::Env env, const std::string& syscall, int err) {
  Napi::Error error = Napi::Error::New(env, syscall + ": " + std::strerror(err));
  // libuv's error codes are -errno on Linux; uv_err_name gives the symbolic name.
  error.Set("code", Napi::String::New(env, uv_err_name(-err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

void ThrowErrno(Napi::Env env, const std::string& syscall) {
  throw ErrnoError(env, syscall, errno);
}

void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

static double ArgNumber(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double v = ArgNumber(info, i, name);
  if (!(v >= 0 && v <= 4294967295.0) || std::floor(v) != v) ThrowType(info.Env(), std::string(name) + " must be a u32");
  return static_cast<uint32_t>(v);
}

int ArgFd(const Napi::CallbackInfo& info, size_t i) {
  double v = ArgNumber(info, i, "fd");
  if (!(v >= 0 && v <= 2147483647.0) || std::floor(v) != v) ThrowType(info.Env(), "fd must be a non-negative int");
  return static_cast<int>(v);
}

uint64_t ArgU64(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double v = ArgNumber(info, i, name);
  if (!(v >= 0 && v <= 9007199254740991.0) || std::floor(v) != v) {
    ThrowType(info.Env(), std::string(name) + " must be a safe non-negative integer");
  }
  return static_cast<uint64_t>(v);
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsBoolean()) ThrowType(info.Env(), std::string(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

