#pragma once

// The Lua scripts in shared/lua/, compiled in by shared/embed_lua.cmake. Declare each new script
// here under its file name.
namespace clickrace::bus::lua {}  // namespace clickrace::bus::lua
