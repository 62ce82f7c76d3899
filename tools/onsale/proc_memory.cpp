#include "onsale/proc_memory.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

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

double cpu_ms(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    std::getline(in, text);
    // After "pid (comm) ", whose name may hold spaces: state is field 3, utime and stime 14 and 15.
    const auto after_name = text.rfind(')');
    if (after_name == std::string::npos) {
        throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/stat");
    }
    std::istringstream fields(text.substr(after_name + 2));
    std::string field;
    for (int i = 3; i < 14; ++i) {
        fields >> field;
    }
    double user = 0;
    double system = 0;
    fields >> user >> system;
    return (user + system) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

} // namespace tp::onsale
