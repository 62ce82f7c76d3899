#pragma once
// Inflates a whole gzip member for checking answers; throws unless zlib reached the end of
// the stream (which it does only once the trailer's CRC-32 and size matched).

#include <stdexcept>
#include <string>
#include <zlib.h>

namespace tp::test {

inline std::string gunzip(const std::string& data) {
    z_stream z{};
    if (inflateInit2(&z, 16 + 15) != Z_OK) { // 16: expect a gzip header and trailer
        throw std::runtime_error("inflateInit2");
    }
    std::string out(8 << 20, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z, Z_FINISH);
    out.resize(out.size() - z.avail_out);
    const bool consumed_all = z.avail_in == 0;
    inflateEnd(&z);
    if (rc != Z_STREAM_END || !consumed_all) {
        throw std::runtime_error("not a valid gzip stream");
    }
    return out;
}

} // namespace tp::test
