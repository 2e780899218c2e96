#pragma once
#include <string>

#include "http_types.hpp"

// The game page and its assets from one directory (CLICKRACE_WEB_DIR). Paths with ".." or
// hidden segments are refused; "/" serves index.html; a placeholder page when it is missing.
namespace clickrace::gateway {

HttpResponse serve_static(const std::string& web_dir, const std::string& path);
std::string content_type_for(const std::string& path);

}  // namespace clickrace::gateway
