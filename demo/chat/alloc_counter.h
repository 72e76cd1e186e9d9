// Counts operator new calls (this program replaces the global operator new) so the HUD
// can show that the frame loop allocates nothing. SDL's and libc's malloc calls are not
// counted; the runtime allocates only at load (its arena).
#pragma once
#include <cstdint>

uint64_t alloc_count();
