#!/usr/bin/env bash
# SmallMind against llama.cpp, side by side: the same GGUF files, the same thread count,
# one repetition of each in turn on this machine, medians of R repetitions, and the ratios.
#
#   perf/compare_llamacpp.sh [-t "1 2"] [-m "24m 134m smol"] [-q "f32 q8_0 q4_0"] [-r 5] [-p 128,512] [-n 128]
#
# Models are written by `smallmind synth-model` into $SM_MODELS (default /tmp/smallmind-models)
# unless present. llama.cpp comes from ../shared/reference/llama.cpp (a measuring
# instrument: never linked, never shipped). Needs python3 to read the JSON.
set -eu
cd "$(dirname "$0")/.."
threads="1 2" presets="24m 134m smol" types="f32 q8_0 q4_0" reps=5 pp=128,512 tg=128
while getopts t:m:q:r:p:n: o; do
    case $o in
    t) threads=$OPTARG ;; m) presets=$OPTARG ;; q) types=$OPTARG ;; r) reps=$OPTARG ;; p) pp=$OPTARG ;; n) tg=$OPTARG ;;
    *) exit 2 ;;
    esac
done
sm=bin/release/smallmind
llama=${LLAMA_CPP:-../shared/reference/llama.cpp}
models=${SM_MODELS:-/tmp/smallmind-models}
mkdir -p "$models"
[ -x "$sm" ] || { echo "build first: make -C build config=release smallmind_cli"; exit 1; }
[ -x "$llama/llama-bench" ] || { echo "llama-bench not found in $llama"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for p in $presets; do
    for t in $types; do
        f="$models/$p-$t.gguf"
        [ -f "$f" ] || "$sm" synth-model --preset "$p" --type "$t" --out "$f" >/dev/null
        for th in $threads; do
            # One repetition of each in turn: the machine's speed drifts over seconds, and
            # alternating exposes both programs to the same drift.
            for _ in $(seq "$reps"); do
                l=$("$llama/llama-bench" -m "$f" -t "$th" -p "$pp" -n "$tg" -r 1 -o json 2>/dev/null)
                s=$("$sm" bench --model "$f" --threads "$th" --pp "$pp" --tg "$tg" --reps 1 --json)
                printf '%s\t%s\t%s\t%s\n' "$p-$t" "$th" "$(echo "$l" | tr -d '\n')" "$s" >>"$out"
            done
        done
    done
done
python3 - "$out" "$tg" <<'PY'
import json, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
tg = int(sys.argv[2])
groups = {}  # (model, threads) -> {test: ([llama samples], [ours])}, plus our per-run extras
order = []
for name, th, lj, sj in rows:
    key = (name, th)
    if key not in groups:
        groups[key] = ({}, [])
        order.append(key)
    tests, extra = groups[key]
    ours = json.loads(sj)
    extra.append(ours)
    for r in json.loads(lj):
        if r["n_gen"] > 0: test, k = "tg%d" % r["n_gen"], "tg%d_tok_s" % r["n_gen"]
        else: test, k = "pp%d" % r["n_prompt"], "pp%d_tok_s" % r["n_prompt"]
        l, s = tests.setdefault(test, ([], []))
        l.extend(r["samples_ts"]); s.append(ours.get(k, 0))
print("| model | threads | test | llama.cpp tok/s | SmallMind tok/s | ratio |")
print("|---|---:|---|---:|---:|---:|")
for key in order:
    name, th = key
    tests, extra = groups[key]
    for test, (l, s) in tests.items():
        lm, sm = statistics.median(l), statistics.median(s)
        print("| %s | %s | %s | %.1f | %.1f | %.2fx |" % (name, th, test, lm, sm, sm / lm if lm else 0))
    print("| %s | %s | ms/token p50 / p99 | | %.3f / %.3f | |" % (name, th, statistics.median(e["ms_per_token_p50"] for e in extra),
                                                         statistics.median(e["ms_per_token_p99"] for e in extra)))
    print("| %s | %s | heap allocs after load | | %d | |" % (name, th, max(e["heap_allocs_after_load"] for e in extra)))
PY
