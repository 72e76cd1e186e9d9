#!/usr/bin/env bash
# The whole test suite: builds every configuration it needs, runs every suite, and ends
# with one plain line "N passed, M failed" (test cases and checks of all suites).
#
#   tests/run.sh            everything (what CI runs)
#   QUICK=1 tests/run.sh    release tests only
#
# Suites: Catch2 tests (release), the C API test, the same Catch2 tests under
# ASan + UBSan, the fuzzers of the loaders and of saved sessions (libFuzzer, clang) for a short time each, the kernel
# tests built for AArch64 and run under qemu-aarch64 (NEON), and a check that llama.cpp
# loads the GGUF files SmallMind writes (when ../shared/reference/llama.cpp exists).
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${FUZZ_SECONDS:-45}
passed=0
failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

note() { printf '\n== %s\n' "$*"; }
ok() { passed=$((passed + 1)); printf 'ok     %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAILED %s\n' "$*"; }

# Adds the "TESTCASES N passed, M failed" line a runner printed (or one failure if none).
count() { # name logfile exit_code
    local line
    line=$(grep -a '^TESTCASES ' "$2" | tail -n 1)
    if [ -z "$line" ]; then
        bad "$1 (no result line, exit $3)"
        tail -n 30 "$2"
        return
    fi
    local p f
    p=$(echo "$line" | awk '{print $2}')
    f=$(echo "$line" | awk '{print $4}')
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" != 0 ] || [ "$3" != 0 ]; then
        [ "$f" = 0 ] && failed=$((failed + 1))
        printf 'FAILED %s: %s (exit %s)\n' "$1" "$line" "$3"
        grep -a -B2 -A12 'FAILED:' "$2" | head -n 120
    else
        printf 'ok     %s: %s\n' "$1" "$line"
    fi
}

build() { # config targets...
    local config=$1
    shift
    make -C build config="$config" -j"$jobs" "$@" >"$log/build_$config.txt" 2>&1
}

note "generate the build (premake)"
if command -v premake5 >/dev/null 2>&1; then
    premake5 gmake2 >/dev/null || { echo "premake5 failed"; exit 1; }
else
    premake4 --file=premake5.lua gmake >/dev/null || { echo "premake4 failed"; exit 1; }
fi

note "release build"
if build release smallmind smallmind_cli smallmind_tests c_api_test smallmind_chat fuzz_gguf fuzz_llama2c fuzz_tokenizer fuzz_session_state; then
    ok "release build"
else
    bad "release build"
    grep -a -E 'error|Error|No rule|Killed' "$log/build_release.txt" | head -n 40
    tail -n 15 "$log/build_release.txt"
    echo "$passed passed, $failed failed"
    exit 1
fi

note "Catch2 tests (release)"
./bin/release/smallmind_tests >"$log/catch.txt" 2>&1
count "catch2 release" "$log/catch.txt" $?

note "C API test"
./bin/release/c_api_test assets/stories260K.gguf ../shared/models/stories260K.greedy.txt >"$log/capi.txt" 2>&1
count "c api" "$log/capi.txt" $?

note "SDL2 chat demo, headless (dummy video driver)"
if SDL_VIDEODRIVER=dummy ./bin/release/smallmind_chat --screenshot "$log/chat.png" --frames 180 >"$log/chat.txt" 2>&1 &&
    [ -s "$log/chat.png" ] && grep -q "operator new in frames 10..179: 0" "$log/chat.txt"; then
    ok "chat demo: $(tail -n 1 "$log/chat.txt")"
else
    bad "chat demo"
    tail -n 5 "$log/chat.txt"
fi

note "fuzz corpora replay (release)"
for f in fuzz_gguf fuzz_llama2c fuzz_tokenizer; do
    if ./bin/release/$f ../shared/models ../shared/tokenizers assets >"$log/$f.txt" 2>&1; then ok "$f replay"; else bad "$f replay"; fi
done
# The saved-session target patches a state it makes itself; its corpus is the inputs that
# once crashed it.
if ./bin/release/fuzz_session_state tests/fuzz/regressions/session_state >"$log/fuzz_session_state.txt" 2>&1; then ok "fuzz_session_state replay"; else bad "fuzz_session_state replay"; fi

if [ "${QUICK:-0}" = 1 ]; then
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
fi

note "ASan + UBSan build and tests"
if build sanitize smallmind smallmind_cli smallmind_tests; then
    ok "sanitize build"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ./bin/sanitize/smallmind_tests >"$log/asan.txt" 2>&1
    count "catch2 asan+ubsan" "$log/asan.txt" $?
else
    bad "sanitize build"
    grep -a -E 'error' "$log/build_sanitize.txt" | head -n 20
fi

note "libFuzzer (${fuzz_seconds}s per loader)"
if command -v clang++ >/dev/null 2>&1 && build fuzz CC=clang CXX=clang++ fuzz_gguf fuzz_llama2c fuzz_tokenizer fuzz_session_state; then
    for f in fuzz_gguf fuzz_llama2c fuzz_tokenizer fuzz_session_state; do
        corpus="$log/corpus_$f"
        mkdir -p "$corpus"
        case $f in
        fuzz_gguf) cp ../shared/models/stories260K.gguf assets/*.gguf "$corpus/" 2>/dev/null ;;
        fuzz_llama2c) cp ../shared/models/stories260K.bin ../shared/models/tok512.bin "$corpus/" ;;
        fuzz_tokenizer) head -c 4096 ../shared/tokenizers/ggml-vocab-gpt-2.gguf.inp >"$corpus/text" ;;
        fuzz_session_state) printf '\0\0\0\0' >"$corpus/unchanged" && cp tests/fuzz/regressions/session_state/* "$corpus/" ;;
        esac
        if ./bin/fuzz/$f -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$log/" "$corpus" >"$log/run_$f.txt" 2>&1; then
            ok "$f: $(grep -a -o 'Done [0-9]* runs' "$log/run_$f.txt" | tail -n 1)"
        else
            bad "$f"
            tail -n 40 "$log/run_$f.txt"
        fi
    done
else
    bad "fuzz build (clang + libFuzzer)"
    grep -a -E 'error' "$log/build_fuzz.txt" | head -n 20
fi

note "NEON kernels: aarch64 cross build under qemu-aarch64"
if command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 && command -v qemu-aarch64 >/dev/null 2>&1; then
    if build cross CXX=aarch64-linux-gnu-g++ CC=aarch64-linux-gnu-gcc kernel_tests; then
        qemu-aarch64 ./bin/cross/kernel_tests >"$log/neon.txt" 2>&1
        count "kernels on aarch64 (qemu)" "$log/neon.txt" $?
    else
        bad "aarch64 cross build"
        grep -a -E 'error' "$log/build_cross.txt" | head -n 20
    fi
else
    bad "aarch64-linux-gnu-g++ or qemu-aarch64 missing"
fi

note "llama.cpp loads the GGUF files SmallMind writes"
llama=../shared/reference/llama.cpp
if [ -x "$llama/llama-cli" ]; then
    out=$("$llama/llama-cli" -m assets/stories260K.gguf -p "Once upon a time" -n 24 --temp 0 -no-cnv -ctk f32 -ctv f32 2>/dev/null </dev/null)
    out="${out#"${out%%[![:space:]]*}"}" # llama-cli echoes the prompt after a space
    want=$(head -c 120 ../shared/models/stories260K.greedy.txt)
    if [ "${out:0:60}" = "${want:0:60}" ]; then ok "llama.cpp generates the fixture text from assets/stories260K.gguf"; else bad "llama.cpp on assets/stories260K.gguf: '${out:0:80}'"; fi
    for t in f32 q8_0 q4_0; do
        f="$log/synth_$t.gguf"
        if ./bin/release/smallmind synth-model --preset tiny --type $t --seed 1 --out "$f" >/dev/null 2>&1; then
            if "$llama/llama-cli" -m "$f" -p "hello" -n 4 --temp 0 -no-cnv </dev/null >/dev/null 2>"$log/llama_$t.txt"; then
                ok "llama.cpp loads a synth-model $t file"
            else
                bad "llama.cpp refuses the synth-model $t file"
                tail -n 5 "$log/llama_$t.txt"
            fi
        else
            bad "synth-model --type $t"
        fi
    done
else
    echo "(skipped: $llama not found)"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
