// An indexed binary heap of merge candidates for the SPM and BPE merge loops.
//
// llama.cpp keeps a std::priority_queue of bigrams and skips the stale ones it pops (a
// side already merged away). The live entries of that queue are exactly the current
// adjacent pairs that can merge, so a heap holding one entry per symbol (the pair it
// forms with its right neighbour), updated in place when a merge changes a pair, pops
// the same pairs in the same order - with memory bounded by the number of symbols.
// Before(a, b) must be a strict total order over symbol indices (ties broken by index).
#pragma once
#include "text/tokenizer_impl.h"

namespace sm::text {

template <class Before> struct MergeHeap {
    MergeSymbol *sym;
    int32_t *h;
    int32_t n = 0;
    Before before;

    MergeHeap(MergeSymbol *s, int32_t *storage, Before b) : sym(s), h(storage), before(b) {}

    bool empty() const { return n == 0; }

    // Symbol i's pair is (now) mergeable with the priority stored in sym[i].
    void set(int32_t i) {
        int32_t p = sym[i].heap_pos;
        if (p < 0) {
            p = n++;
            h[p] = i;
            sym[i].heap_pos = p;
        }
        up(down(p));
    }

    // Symbol i's pair cannot merge (any more).
    void remove(int32_t i) {
        int32_t p = sym[i].heap_pos;
        if (p < 0) return;
        sym[i].heap_pos = -1;
        int32_t last = h[--n];
        if (p == n) return;
        h[p] = last;
        sym[last].heap_pos = p;
        up(down(p));
    }

    int32_t pop() {
        int32_t top = h[0];
        remove(top);
        return top;
    }

private:
    void place(int32_t p, int32_t i) {
        h[p] = i;
        sym[i].heap_pos = p;
    }
    int32_t up(int32_t p) {
        int32_t i = h[p];
        while (p > 0) {
            int32_t parent = (p - 1) / 2;
            if (!before(i, h[parent])) break;
            place(p, h[parent]);
            p = parent;
        }
        place(p, i);
        return p;
    }
    int32_t down(int32_t p) {
        int32_t i = h[p];
        for (;;) {
            int32_t c = 2 * p + 1;
            if (c >= n) break;
            if (c + 1 < n && before(h[c + 1], h[c])) c++;
            if (!before(h[c], i)) break;
            place(p, h[c]);
            p = c;
        }
        place(p, i);
        return p;
    }
};

// The merge loop both BPE flavours share: join the best pair into its left symbol, unlink
// the right one, and re-score the two pairs that changed, until no pair can merge.
// `joined(i)` updates whatever else the merged symbol carries (BPE: its token id).
template <class Heap, class Evaluate, class Joined>
void merge_all(MergeSymbol *sym, Heap &heap, Evaluate &evaluate, Joined joined) {
    while (!heap.empty()) {
        const int32_t i = heap.pop(), j = sym[i].next;
        sym[i].len += sym[j].len;
        joined(i);
        sym[j].len = 0;
        sym[i].next = sym[j].next;
        if (sym[j].next >= 0) sym[sym[j].next].prev = i;
        heap.remove(j);
        evaluate(i);
        if (sym[i].prev >= 0) evaluate(sym[i].prev);
    }
}

} // namespace sm::text
