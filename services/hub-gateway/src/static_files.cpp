#include "static_files.hpp"

#include <sys/stat.h>
#include <fstream>
#include <sstream>

namespace clickrace::gateway {

std::string content_type_for(const std::string& path) {
  auto dot = path.rfind('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

namespace {
constexpr std::size_t kMaxFileBytes = 8 * 1024 * 1024;
constexpr const char* kPlaceholder =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>clickrace</title></head>"
    "<body><h1>clickrace</h1><p>The game page is not installed (CLICKRACE_WEB_DIR).</p>"
    "</body></html>";

bool safe(const std::string& path) {
  if (path.empty() || path[0] != '/') return false;
  std::stringstream ss(path.substr(1));
  std::string seg;
  while (std::getline(ss, seg, '/')) {
    if (seg == ".." || (!seg.empty() && seg[0] == '.')) return false;
  }
  return path.find('\0') == std::string::npos && path.find('\\') == std::string::npos;
}
}  // namespace

HttpResponse serve_static(const std::string& web_dir, const std::string& path) {
  if (!safe(path)) return HttpResponse::text(404, "not found");
  std::string rel = path == "/" ? "/index.html" : path;
  std::string full = web_dir + rel;
  struct stat st {};
  if (::stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::size_t>(st.st_size) > kMaxFileBytes) {
    if (path == "/") {
      HttpResponse r = HttpResponse::text(200, kPlaceholder);
      r.content_type = "text/html; charset=utf-8";
      return r;
    }
    return HttpResponse::text(404, "not found");
  }
  std::ifstream in(full, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  HttpResponse r;
  r.status = 200;
  r.content_type = content_type_for(rel);
  r.body = buf.str();
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

}  // namespace clickrace::gateway
