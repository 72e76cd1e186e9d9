// Heap allocations made by the process's own code since start: every operator new and
// every malloc-family call of the objects linked with -Wl,--wrap (premake5.lua's
// count_allocations). One implementation for the CLI, the chat demo and the tests.
#pragma once
#include <cstdint>

uint64_t heap_allocations();
