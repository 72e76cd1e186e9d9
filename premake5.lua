-- SmallMind: the one build description.
--
--   premake5 gmake2            (premake5 users)
--   premake4 --file=premake5.lua gmake   (Debian 12 packages premake4 only)
--   make -C build config=release -j2
--
-- Configurations: release, debug, sanitize (ASan + UBSan), fuzz (clang + libFuzzer:
-- make CC=clang CXX=clang++), cross (static AArch64 kernel tests:
-- make CXX=aarch64-linux-gnu-g++, run under qemu-aarch64).
-- No -march=native anywhere: one x86-64 binary runs everywhere and each kernel file
-- enables its own instruction set (see runtime/src/kernels/*/isa_begin.h).

---------------------------------------------------------------------------------------
-- premake4 compatibility: map the premake5 names this file uses onto premake 4.3.
if _PREMAKE_VERSION:sub(1, 1) == "4" then
    workspace = solution
    local dialect = nil
    function cppdialect(d) dialect = d:lower():gsub("^c%+%+", "-std=c++"):gsub("^gnu%+%+", "-std=gnu++"); buildoptions { dialect } end
    function cdialect(d) buildoptions { "-std=" .. d:lower() } end
    -- filter "configurations:X" / filter {} -> configuration "X" / configuration {}
    function filter(f)
        if type(f) == "table" then
            if #f == 0 then return configuration {} end
            f = f[1]
        end
        local terms = f:gsub("^configurations:", ""):gsub("^system:", "")
        return configuration { terms }
    end
    function optimize(o) if o == "Speed" or o == "On" then flags { "OptimizeSpeed" } end end
    function symbols(s) if s == "On" then flags { "Symbols" } end end
    function warnings(w) if w == "Extra" then flags { "ExtraWarnings" } end end
    function toolset(t) end -- premake4: pass CC/CXX to make instead
    function externalincludedirs(d) includedirs(d) end
end

workspace "smallmind"
    configurations { "release", "debug", "sanitize", "fuzz", "cross" }
    location "build"
    language "C++"
    cppdialect "C++17"
    includedirs { "runtime/include", "runtime/src" }
    buildoptions { "-fno-strict-aliasing", "-Wall", "-Wextra", "-Wno-unused-parameter" }

    filter "configurations:release"
        optimize "Speed"
        symbols "On"
        defines { "NDEBUG" }
        targetdir "bin/release"
        objdir "build/obj/release"
    filter "configurations:debug"
        symbols "On"
        defines { "SM_DEBUG" }
        targetdir "bin/debug"
        objdir "build/obj/debug"
    filter "configurations:sanitize"
        optimize "Speed"
        symbols "On"
        buildoptions { "-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined" }
        linkoptions { "-fsanitize=address,undefined" }
        targetdir "bin/sanitize"
        objdir "build/obj/sanitize"
    filter "configurations:fuzz"
        toolset "clang"
        optimize "Speed"
        symbols "On"
        defines { "SM_LIBFUZZER" }
        buildoptions { "-fsanitize=fuzzer-no-link,address,undefined", "-fno-omit-frame-pointer",
                       "-fsanitize-coverage-ignorelist=../tests/fuzz/coverage_ignore.txt" }
        linkoptions { "-fsanitize=address,undefined" }
        targetdir "bin/fuzz"
        objdir "build/obj/fuzz"
    filter "configurations:cross"
        optimize "Speed"
        defines { "NDEBUG" }
        linkoptions { "-static" }
        targetdir "bin/cross"
        objdir "build/obj/cross"
    filter {}

-- The runtime: a static library, the only thing a game links.
project "smallmind"
    kind "StaticLib"
    files { "runtime/include/**.h", "runtime/src/**.h", "runtime/src/**.cpp" }
    -- "ar -rcs" only adds members: drop those whose source is gone, so a renamed file
    -- never leaves its old object behind. (Not "rm": premake4 runs pre-link commands on
    -- every make, even when nothing is relinked.)
    prelinkcommands { "@for m in $$(ar t $(TARGET) 2>/dev/null); do case ' $(notdir $(OBJECTS)) ' in *\" $$m \"*) ;; *) ar d $(TARGET) $$m ;; esac; done" }

-- Routes every malloc-family call of our objects through perf/alloc_counter.cpp.
local count_allocations = "-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign,--wrap=aligned_alloc,--wrap=mi_malloc_aligned"

local function runtime_links()
    links { "smallmind", "mimalloc", "pcre2-8", "pthread", "dl" }
end

-- Programs outside the runtime include across folders by the path from the repository
-- root ("perf/perf_commands.h", "demo/common/cli_args.h") and within their own folder by
-- bare name. Dependencies run one way: demo/cli -> perf -> demo/common.

-- The command-line tool (demo/cli) with the benchmarks it runs (perf/) and the helpers
-- both share (demo/common: flags, config file, model loading, loss plots: stb_image_write
-- from libstb-dev, header only).
project "smallmind_cli"
    kind "ConsoleApp"
    targetname "smallmind"
    files { "demo/cli/**.h", "demo/cli/**.cpp", "demo/common/**.h", "demo/common/**.cpp", "perf/**.h", "perf/**.cpp" }
    includedirs { "." }
    runtime_links()
    -- perf/alloc_counter.cpp counts our allocations for `smallmind bench`.
    linkoptions { count_allocations }

-- The SDL2 chat demo with its performance HUD (Debian: libsdl2-dev, libstb-dev).
project "smallmind_chat"
    kind "WindowedApp"
    files { "demo/chat/**.h", "demo/chat/**.cpp", "perf/alloc_counter.cpp" }
    includedirs { ".", "/usr/include/SDL2", "/usr/include/stb" }
    runtime_links()
    links { "SDL2" }
    -- perf/alloc_counter.cpp counts the frame loop's allocations for the HUD.
    linkoptions { count_allocations }

-- Catch2 v2 tests, mirroring runtime/src.
project "smallmind_tests"
    kind "ConsoleApp"
    -- demo/common/plot_png: the one demo helper with unit tests of its own.
    files { "tests/**.h", "tests/**.cpp", "perf/alloc_counter.cpp", "demo/common/plot_png.h", "demo/common/plot_png.cpp" }
    excludes { "tests/fuzz/**", "tests/cross/**" }
    includedirs { "tests", "." }
    runtime_links()
    -- Counts every allocation our code makes, for the zero-allocation tests.
    linkoptions { count_allocations }

-- The public header compiled as C.
project "c_api_test"
    kind "ConsoleApp"
    language "C"
    files { "tests/api/c_api_test.c" }
    buildoptions { "-std=c99", "-pedantic" }
    runtime_links()
    links { "stdc++", "m" }

-- Loader fuzzers: libFuzzer in the fuzz configuration, a corpus replayer otherwise.
local function fuzzer(name)
    project(name)
        kind "ConsoleApp"
        files { "tests/fuzz/" .. name .. ".cpp", "tests/fuzz/fuzz_main.cpp" }
        includedirs { "tests" }
        runtime_links()
        filter "configurations:fuzz"
            linkoptions { "-fsanitize=fuzzer" }
        filter {}
end
fuzzer "fuzz_gguf"
fuzzer "fuzz_llama2c"
fuzzer "fuzz_tokenizer"
fuzzer "fuzz_session_state"
fuzzer "fuzz_adapter"
fuzzer "fuzz_lifecycle"

-- Kernel tests alone, statically linked, for other architectures (NEON under qemu).
project "kernel_tests"
    kind "ConsoleApp"
    files {
        "runtime/src/kernels/**.cpp", "runtime/src/quant/**.cpp", "runtime/src/core/cpu.cpp",
        "runtime/src/core/error.cpp", "runtime/src/format/tensor_type.cpp",
        "tests/kernels/**.cpp", "tests/cross/kernel_main.cpp",
    }
    includedirs { "tests" }
    defines { "SM_KERNEL_TESTS_ONLY" }
    links { "pthread" }
