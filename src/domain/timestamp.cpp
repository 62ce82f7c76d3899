#include "domain/timestamp.hpp"

#include <chrono>
#include <cstdio>

namespace tp::domain {
namespace {

struct cursor {
    std::string_view text;
    std::size_t at = 0;

    bool done() const { return at == text.size(); }
    bool take(char c) {
        if (at < text.size() && text[at] == c) {
            ++at;
            return true;
        }
        return false;
    }
    std::optional<int> digits(std::size_t count) {
        if (at + count > text.size()) {
            return std::nullopt;
        }
        int value = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const char c = text[at + i];
            if (c < '0' || c > '9') {
                return std::nullopt;
            }
            value = value * 10 + (c - '0');
        }
        at += count;
        return value;
    }
};

} // namespace

std::optional<epoch_ms> parse_iso8601(std::string_view text) {
    using namespace std::chrono;
    cursor in{text};
    const auto year = in.digits(4);
    if (!year || !in.take('-')) {
        return std::nullopt;
    }
    const auto month = in.digits(2);
    if (!month || !in.take('-')) {
        return std::nullopt;
    }
    const auto day = in.digits(2);
    if (!day || !(in.take('T') || in.take(' '))) {
        return std::nullopt;
    }
    const auto hour = in.digits(2);
    if (!hour || !in.take(':')) {
        return std::nullopt;
    }
    const auto minute = in.digits(2);
    if (!minute) {
        return std::nullopt;
    }
    int second = 0;
    int millis = 0;
    if (in.take(':')) {
        const auto s = in.digits(2);
        if (!s) {
            return std::nullopt;
        }
        second = *s;
        if (in.take('.')) {
            const auto ms = in.digits(3);
            if (!ms) {
                return std::nullopt;
            }
            millis = *ms;
        }
    }
    int offset_minutes = 0;
    if (!in.take('Z')) {
        const bool plus = in.take('+');
        if (!plus && !in.take('-')) {
            return std::nullopt;
        }
        const auto oh = in.digits(2);
        if (!oh || !in.take(':')) {
            return std::nullopt;
        }
        const auto om = in.digits(2);
        if (!om || *oh > 23 || *om > 59) {
            return std::nullopt;
        }
        offset_minutes = (plus ? 1 : -1) * (*oh * 60 + *om);
    }
    if (!in.done()) {
        return std::nullopt;
    }
    const year_month_day date{
        std::chrono::year{*year},
        std::chrono::month{static_cast<unsigned>(*month)},
        std::chrono::day{static_cast<unsigned>(*day)}};
    if (!date.ok() || *hour > 23 || *minute > 59 || second > 59) {
        return std::nullopt;
    }
    const auto instant = sys_days{date} + hours{*hour} + minutes{*minute} + seconds{second} + milliseconds{millis} -
                         minutes{offset_minutes};
    return duration_cast<milliseconds>(instant.time_since_epoch()).count();
}

std::string format_iso8601(epoch_ms instant) {
    using namespace std::chrono;
    const sys_time<milliseconds> t{milliseconds{instant}};
    const auto day = floor<days>(t);
    const year_month_day date{day};
    const hh_mm_ss time{t - day};
    char buffer[64];
    std::snprintf(
        buffer,
        sizeof buffer,
        "%04d-%02u-%02uT%02ld:%02ld:%02lldZ",
        static_cast<int>(date.year()),
        static_cast<unsigned>(date.month()),
        static_cast<unsigned>(date.day()),
        static_cast<long>(time.hours().count()),
        static_cast<long>(time.minutes().count()),
        static_cast<long long>(time.seconds().count())
    );
    std::string out(buffer);
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03lld", static_cast<long long>(time.subseconds().count()));
    out.insert(out.size() - 1, millis);
    return out;
}

} // namespace tp::domain
