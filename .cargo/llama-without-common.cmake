# Included by CMake after each project() call while llama-cpp-sys-2 configures llama.cpp
# (CMAKE_PROJECT_INCLUDE, set in config.toml; the crate's build script passes every CMAKE_*
# variable to CMake). It turns off llama.cpp's `common` library: 54 of the 129 objects of the
# build, and the slowest to compile (chat templates, JSON schema, argument parsing), which
# Touchstone never calls. llama-cpp-2 asks for it through llama-cpp-sys-2's default `common`
# feature, which a dependent cannot turn off; with llama-cpp-2's own `common` feature off
# (Cargo.toml) nothing references the wrapper that would need it, so nothing is left undefined.
if(PROJECT_NAME STREQUAL "llama.cpp")
  set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama.cpp common library (not used by Touchstone)" FORCE)
endif()
