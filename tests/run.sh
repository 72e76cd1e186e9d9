#!/usr/bin/env bash
# The whole test suite: builds every configuration it needs, runs every suite, and ends
# with one plain line "N passed, M failed" (test cases and checks of all suites).
#
#   tests/run.sh            everything (what CI runs)
#   QUICK=1 tests/run.sh    release tests only
#
# Suites: Catch2 tests (release), the C API test, the chat demo headless, the fuzzers'
# corpora replayed, the same Catch2 tests on a clean clone of the committed HEAD (no
# shared folder beside it: the fixtures are in tests/data), the Catch2 tests under ASan +
# UBSan, each fuzzer under libFuzzer (clang) for a short time, the kernel tests built for
# AArch64 and run under qemu-aarch64 (NEON), and a check that llama.cpp loads the GGUF
# files SmallMind writes (only when ../shared/reference/llama.cpp exists: otherwise a
# "skipped: ..." line).
set -u
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${FUZZ_SECONDS:-45}
passed=0
failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# The fuzzers (tests/fuzz/<name>.cpp), one a line: the name, then libFuzzer options (words
# starting with -) and seed files, beyond its committed corpus (tests/fuzz/corpus/<name>/)
# and crash regressions (tests/fuzz/regressions/<name>/), both used when present. A new
# fuzzer is a line here and `fuzzer "<name>"` in premake5.lua.
fuzzers='
fuzz_gguf          tests/data/stories260K.gguf tests/data/ggml-vocab-llama-spm.gguf assets/stories260K.gguf
fuzz_llama2c       tests/data/stories260K.bin tests/data/tok512.bin
fuzz_tokenizer     -max_len=4097 tests/data/ggml-vocab-gpt-2.gguf.inp
fuzz_session_state
fuzz_adapter
fuzz_lifecycle     -max_len=256
'
fuzzer_names=$(echo "$fuzzers" | awk 'NF { print $1 }')
seeds_of() { echo "$fuzzers" | awk -v f="$1" '$1 == f { for (i = 2; i <= NF; i++) if ($i !~ /^-/) print $i }'; }
options_of() { echo "$fuzzers" | awk -v f="$1" '$1 == f { for (i = 2; i <= NF; i++) if ($i ~ /^-/) print $i }'; }
# Committed inputs of a fuzzer: its corpus and regressions folders that exist.
committed_of() { for d in tests/fuzz/corpus/$1 tests/fuzz/regressions/$1; do [ -d "$d" ] && echo "$d"; done; }

# ccache, when present, makes rebuilds (and the clean clone's build) fast; the cache key
# leaves out the folder, so the clone reuses the objects of the build here.
wrap=""
if command -v ccache >/dev/null 2>&1; then
    wrap="ccache "
    export CCACHE_NOHASHDIR=1
fi

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

build() { # config targets... (CC=... CXX=... after the config override the compilers)
    local config=$1
    shift
    make -C build config="$config" -j"$jobs" CC="${wrap}gcc" CXX="${wrap}g++" "$@" >"$log/build_$config.txt" 2>&1
}

generate() {
    if command -v premake5 >/dev/null 2>&1; then
        premake5 gmake2 >/dev/null
    else
        premake4 --file=premake5.lua gmake >/dev/null
    fi
}

note "generate the build (premake)"
generate || { echo "premake failed"; echo "0 passed, 1 failed"; exit 1; }

note "release build"
# shellcheck disable=SC2086 # the names are words
if build release smallmind smallmind_cli smallmind_tests c_api_test smallmind_chat $fuzzer_names; then
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
./bin/release/c_api_test assets/stories260K.gguf tests/data/stories260K.greedy.txt >"$log/capi.txt" 2>&1
count "c api" "$log/capi.txt" $?

note "SDL2 chat demo, headless (dummy video driver)"
if SDL_VIDEODRIVER=dummy ./bin/release/smallmind_chat --screenshot "$log/chat.png" --frames 180 >"$log/chat.txt" 2>&1 &&
    [ -s "$log/chat.png" ] && grep -q "operator new in frames 10..179: 0" "$log/chat.txt"; then
    ok "chat demo: $(tail -n 1 "$log/chat.txt")"
else
    bad "chat demo"
    tail -n 5 "$log/chat.txt"
fi
# Teach mode: "/teach SENTENCE" typed at frame 3 while the character writes a story; within
# the frames run, the held-out loss on the sentence must fall below half its value before,
# with no heap allocation in the frame loop.
sentence="Pip the little robot keeps the lamp of the lighthouse bright for the boats."
if SDL_VIDEODRIVER=dummy ./bin/release/smallmind_chat --screenshot "$log/teach.png" --frames 240 --teach "$sentence" \
    >"$log/teach.txt" 2>&1 && grep -q "operator new in frames 10..239: 0" "$log/teach.txt" &&
    awk '/^teach:/ { for (i = 1; i <= NF; i++) if ($i == "->") { before = $(i - 1); after = $(i + 1) } }
         END { exit !(before + 0 > 0 && after + 0 < (before + 0) / 2) }' "$log/teach.txt"; then
    ok "chat demo teaches a sentence while talking: $(grep '^teach:' "$log/teach.txt")"
else
    bad "chat demo teach mode"
    tail -n 5 "$log/teach.txt"
fi

note "fuzz corpora replay (release)"
for f in $fuzzer_names; do
    # shellcheck disable=SC2046 # word lists
    if ./bin/release/"$f" $(committed_of "$f") $(seeds_of "$f") >"$log/$f.txt" 2>&1; then
        ok "$f replay: $(tail -n 1 "$log/$f.txt")"
    else
        bad "$f replay"
        tail -n 20 "$log/$f.txt"
    fi
done

if [ "${QUICK:-0}" = 1 ]; then
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
fi

note "clean clone of the committed HEAD, alone in a temporary folder: release Catch2 tests"
clone="$log/clone/smallmind" # nothing beside it: no shared folder
if git -C "$root" rev-parse --verify -q HEAD >/dev/null && git clone -q "$root" "$clone" >"$log/clone.txt" 2>&1; then
    if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
        echo "(uncommitted changes here are not in the clone: it tests $(git -C "$clone" rev-parse --short HEAD))"
    fi
    if (cd "$clone" && generate && make -C build config=release -j"$jobs" CC="${wrap}gcc" CXX="${wrap}g++" \
        smallmind smallmind_cli smallmind_tests) >"$log/build_clone.txt" 2>&1; then
        (cd "$clone" && ./bin/release/smallmind_tests) >"$log/clone_catch.txt" 2>&1
        count "catch2 release on a clean clone" "$log/clone_catch.txt" $?
    else
        bad "clean clone build"
        grep -a -E 'error|Error|No rule' "$log/build_clone.txt" | head -n 20
    fi
else
    bad "git clone of $root"
    tail -n 5 "$log/clone.txt"
fi
rm -rf "$log/clone"

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

note "libFuzzer (${fuzz_seconds}s per fuzzer)"
# shellcheck disable=SC2086
# ccache hashes the command line, not the coverage ignore list it names: hash that too.
if command -v clang++ >/dev/null 2>&1 &&
    CCACHE_EXTRAFILES="$PWD/tests/fuzz/coverage_ignore.txt" build fuzz CC="${wrap}clang" CXX="${wrap}clang++" $fuzzer_names; then
    for f in $fuzzer_names; do
        # New inputs go to the first folder, a scratch copy of the seeds; the committed
        # corpus and regressions are read only.
        work="$log/corpus_$f"
        mkdir -p "$work"
        for seed in $(seeds_of "$f"); do cp "$seed" "$work/$(echo "$seed" | tr / _)"; done
        [ -d "tests/fuzz/corpus/$f" ] || printf '\0\0\0\0' >"$work/zeros"
        # shellcheck disable=SC2046
        if ./bin/fuzz/"$f" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -max_len=65536 $(options_of "$f") \
            -artifact_prefix="bin/fuzz/$f-" "$work" $(committed_of "$f") >"$log/run_$f.txt" 2>&1; then
            done_line=$(grep -a -o 'Done [0-9]* runs in [0-9]* second' "$log/run_$f.txt" | tail -n 1)
            runs=$(echo "$done_line" | awk '{ print $2 }')
            secs=$(echo "$done_line" | awk '{ print $5 }')
            ok "$f: $runs runs in ${secs}s ($((${runs:-0} / (${secs:-1} > 0 ? ${secs:-1} : 1))) exec/s)"
        else
            bad "$f (the input is bin/fuzz/$f-*: once fixed, add it to tests/fuzz/regressions/$f/)"
            tail -n 40 "$log/run_$f.txt"
        fi
    done
else
    bad "fuzz build (clang + libFuzzer)"
    grep -a -E 'error' "$log/build_fuzz.txt" | head -n 20
fi

note "NEON kernels: aarch64 cross build under qemu-aarch64"
if command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 && command -v qemu-aarch64 >/dev/null 2>&1; then
    if build cross CXX="${wrap}aarch64-linux-gnu-g++" CC="${wrap}aarch64-linux-gnu-gcc" kernel_tests; then
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
    want=$(head -c 120 tests/data/stories260K.greedy.txt)
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
    # A LoRA adapter SmallMind writes: llama.cpp applies it and writes the same greedy text
    # as SmallMind with the adapter unmerged, and as both with it merged (export).
    for t in f32 f16; do
        a="$log/adapter_$t.gguf"
        merged="$log/merged_$t.gguf"
        if ./bin/release/smallmind synth-adapter --rank 8 --alpha 16 --b-std 0.01 --seed 3 --type $t --out "$a" >/dev/null 2>&1 &&
            ./bin/release/smallmind export --lora "$a" --out "$merged" >/dev/null 2>&1; then
            ours=$(./bin/release/smallmind generate -n 40 --lora "$a" 2>/dev/null)
            theirs=$("$llama/llama-cli" -m assets/stories260K.gguf --lora "$a" -p "Once upon a time" -n 40 --temp 0 -no-cnv -ctk f32 -ctv f32 2>"$log/llama_lora_$t.txt" </dev/null)
            theirs="${theirs#"${theirs%%[![:space:]]*}"}"
            merged_theirs=$("$llama/llama-cli" -m "$merged" -p "Once upon a time" -n 40 --temp 0 -no-cnv -ctk f32 -ctv f32 2>/dev/null </dev/null)
            merged_theirs="${merged_theirs#"${merged_theirs%%[![:space:]]*}"}"
            base=$(./bin/release/smallmind generate -n 40 2>/dev/null)
            if [ "${ours:0:100}" = "${theirs:0:100}" ] && [ "${ours:0:100}" = "${merged_theirs:0:100}" ] && [ "$ours" != "$base" ]; then
                ok "llama.cpp applies a SmallMind $t LoRA adapter (llama-cli --lora) and its merged model: the same text as smallmind generate --lora"
            else
                bad "llama.cpp with the $t adapter: '${theirs:0:80}', merged '${merged_theirs:0:80}', SmallMind '${ours:0:80}'"
                grep -i -E 'lora|error' "$log/llama_lora_$t.txt" | tail -n 5
            fi
        else
            bad "synth-adapter / export ($t)"
        fi
    done
    # An adapter SmallMind trains (finetune on the text fixture): llama.cpp applies it and
    # writes the same greedy text from a prompt of that text.
    a="$log/finetuned.gguf"
    if ./bin/release/smallmind finetune --data tests/data/finetune.txt --lora-rank 8 --steps 30 --batch 4 --seq 32 --lr 1e-2 \
        --out "$a" >/dev/null 2>"$log/finetune.txt"; then
        ours=$(./bin/release/smallmind generate --prompt "Pip the little robot" -n 40 --lora "$a" 2>/dev/null)
        theirs=$("$llama/llama-cli" -m assets/stories260K.gguf --lora "$a" -p "Pip the little robot" -n 40 --temp 0 -no-cnv -ctk f32 -ctv f32 2>"$log/llama_finetuned.txt" </dev/null)
        theirs="${theirs#"${theirs%%[![:space:]]*}"}"
        base=$(./bin/release/smallmind generate --prompt "Pip the little robot" -n 40 2>/dev/null)
        if [ "${ours:0:100}" = "${theirs:0:100}" ] && [ "$ours" != "$base" ]; then
            ok "llama.cpp applies an adapter SmallMind fine-tuned (smallmind finetune): the same text as smallmind generate --lora"
        else
            bad "llama.cpp with the fine-tuned adapter: '${theirs:0:80}', SmallMind '${ours:0:80}', base '${base:0:80}'"
            grep -i -E 'lora|error' "$log/llama_finetuned.txt" | tail -n 5
        fi
    else
        bad "smallmind finetune"
        tail -n 5 "$log/finetune.txt"
    fi
else
    echo "skipped: no $llama/llama-cli"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
