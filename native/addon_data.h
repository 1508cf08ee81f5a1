// Per-environment state of the addon (worker threads each get their own).
#pragma once
#include <napi.h>

struct AddonData {
  // Constructor of MappingHandle, so C++ can create mappings for other modules.
  Napi::FunctionReference mappingConstructor;
};
