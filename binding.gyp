{
  "targets": [
    {
      "target_name": "xenipc",
      "sources": [ "native/addon.cc", "native/errno_error.cc", "native/file_descriptors.cc", "native/memory_mapping.cc", "native/gntdev.cc", "native/gntalloc.cc", "native/evtchn.cc", "native/port_poller.cc", "native/event_socket.cc", "native/uapi_constants.cc", "native/cpu_yield.cc" ],
      "include_dirs": [ "<!(node -p \"require('node-addon-api').include_dir\")" ],
      "defines": [ "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS" ],
      "cflags!": [ "-fno-exceptions" ],
      "cflags_cc!": [ "-fno-exceptions" ],
      "cflags_cc": [ "-std=c++17", "-Wall", "-Wextra" ]
    }
  ]
}
