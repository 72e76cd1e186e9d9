#pragma once
#include <cstdint>
// Heap allocations made by the process's own code since start (the CLI links with
// -Wl,--wrap for the malloc family and replaces operator new to count them).
uint64_t heap_allocations();
