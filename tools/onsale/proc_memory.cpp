#include "onsale/proc_memory.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tp::onsale {

std::int64_t proc_field(const std::string& file, const std::string& line, const std::string& field) {
    std::ifstream in(file);
    std::string text;
    while (std::getline(in, text)) {
        std::istringstream words(text);
        std::string first;
        words >> first;
        if (first != line) {
            continue;
        }
        if (field.empty()) { // "Name: value kB"
            std::int64_t value = 0;
            words >> value;
            return value;
        }
        std::string name;
        std::int64_t value = 0;
        while (words >> name >> value) { // "TCP: inuse 5 orphan 0 tw 0 alloc 7 mem 1"
            if (name == field) {
                return value;
            }
        }
    }
    throw std::runtime_error("no " + line + " " + field + " in " + file);
}

std::int64_t resident_kib(int pid) {
    return proc_field("/proc/" + std::to_string(pid) + "/status", "VmRSS:", "");
}

} // namespace tp::onsale
