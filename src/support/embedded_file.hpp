#pragma once
// A file compiled into the binary by cmake/embed.cmake (migrations, the OpenAPI document).

#include <span>
#include <string_view>

namespace tp {

struct embedded_file {
    std::string_view name;
    std::string_view content;
};

} // namespace tp
