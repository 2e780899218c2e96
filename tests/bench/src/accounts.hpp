#pragma once
#include <string>
#include <vector>

#include "http.hpp"

// Registers (or reuses) `count` accounts named <prefix>-<i> and logs each in once; one token can
// open many connections. Password hashing is slow on purpose, so this runs on a few threads.
namespace clickrace::bench {

// Returns the tokens, or an error text (first failure) in `error`.
std::vector<std::string> obtain_tokens(const Endpoint& gateway, const std::string& prefix,
                                       const std::string& password, int count, std::string& error);

}  // namespace clickrace::bench
