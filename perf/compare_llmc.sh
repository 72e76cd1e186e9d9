#!/usr/bin/env bash
# SmallMind's trainer against llm.c's CPU trainer (train_gpt2.c), side by side: the same
# shape (6.2M parameters: dim 288, hidden 768 = llm.c's 4 x 288 MLP in parameters, 6
# layers, 6 heads, vocab 512, batch 4 x 64), the same thread count, one run of each in
# turn, R rounds; prints each round's tokens/s and ratio, then the medians.
#
#   perf/compare_llmc.sh [-t "1 2"] [-r 3]
#
# llm.c comes from ../shared/reference/llm.c (a measuring instrument: never linked).
set -eu
cd "$(dirname "$0")/.."
threads="1 2" rounds=3
while getopts t:r: o; do
    case $o in
    t) threads=$OPTARG ;; r) rounds=$OPTARG ;;
    *) exit 2 ;;
    esac
done
sm=bin/release/smallmind
llmc=${LLMC:-../shared/reference/llm.c}/bench.sh
[ -x "$sm" ] || { echo "build first: make -C build config=release smallmind_cli"; exit 1; }
[ -f "$llmc" ] || { echo "llm.c bench.sh not found: $llmc"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
    for t in $threads; do
        l=$(bash "$llmc" "$t" | sed -n 's/.* \([0-9.]*\) tokens\/s.*/\1/p')
        s=$("$sm" bench-train --threads "$t" --steps 10 --json 2>/dev/null | tail -n 1 |
            python3 -c 'import json,sys; print(round(json.load(sys.stdin)["tok_s"]))')
        echo "$t $l $s" >>"$out"
        printf 'round %d, %d thread(s): llm.c %s tok/s, SmallMind %s tok/s, %.2fx\n' "$r" "$t" "$l" "$s" "$(echo "$s / $l" | bc -l)"
    done
done
python3 - "$out" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print("| threads | llm.c tok/s | SmallMind tok/s | ratio (median of rounds) |")
print("|---:|---:|---:|---:|")
for t in sorted({r[0] for r in rows}, key=int):
    rs = [r for r in rows if r[0] == t]
    l = statistics.median(float(r[1]) for r in rs); s = statistics.median(float(r[2]) for r in rs)
    q = statistics.median(float(r[2]) / float(r[1]) for r in rs)
    print("| %s | %.0f | %.0f | %.2fx |" % (t, l, s, q))
PY
