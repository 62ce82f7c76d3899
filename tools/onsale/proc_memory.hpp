#pragma once
// Figures read from /proc on this machine: a process's resident size and CPU time, and the
// kernel's memory for sockets (buffers and the slab caches their structures live in), which
// is no process's resident memory but grows with every open connection all the same.

#include <cstdint>
#include <string>

namespace tp::onsale {

// VmRSS of the process, in KiB; throws std::runtime_error if it cannot be read.
std::int64_t resident_kib(int pid);

// The CPU time the process has used so far (user and system, all threads), in milliseconds
// (10 ms resolution on most kernels).
double cpu_ms(int pid);

// A field of a /proc file of "name: value [kB]" lines (VmRSS in status, Slab in meminfo ...),
// or of /proc/net/sockstat's "TCP: inuse N ... mem N" line (`line` "TCP:", `field` "mem").
std::int64_t proc_field(const std::string& file, const std::string& line, const std::string& field);

} // namespace tp::onsale
