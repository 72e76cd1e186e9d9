#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/fuzz/corpus: tiny but complete llama2.c checkpoints
(versions 0, 1 and 2, shared and separate classifier), through `smallmind convert` the
same model as GGUF, the tokenizer test strings with a selector byte in front (vocabulary
and flags, as fuzz_tokenizer reads them), and the unchanged saved session. The fixtures in tests/data are megabytes, and libFuzzer reads only the
first -max_len bytes of an input, so without these no seed would reach the checks that come
after a whole file has parsed.

    python3 tests/fuzz/make_seeds.py            (after building bin/release/smallmind)
"""
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ = 8, 16, 1, 2, 1, 8, 4
HEAD_DIM = DIM // HEADS
KV_DIM = KV_HEADS * HEAD_DIM
TOKENS = [b"<unk>", b"<s>", b"</s>", b" a", b"b", b"c", b" the", b"\xc3\xa9"]


def values(n, seed):
    """n float32 values in [-0.5, 0.5) from a 32-bit xorshift."""
    x, out = seed, []
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out.append((x >> 8) / 16777216.0 - 0.5)
    return struct.pack("<%df" % n, *out)


def matrices():
    """Per-layer matrix sizes in run.c's order (after the embedding)."""
    return [DIM * DIM, DIM * KV_DIM, DIM * KV_DIM, DIM * DIM, DIM * HIDDEN, HIDDEN * DIM, DIM * HIDDEN]


def v0(shared):
    head = struct.pack("<7i", DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB if shared else -VOCAB, SEQ)
    n = VOCAB * DIM + LAYERS * (DIM + sum(matrices()) + DIM) + DIM + SEQ * HEAD_DIM
    if not shared:
        n += VOCAB * DIM
    return head + values(n, 7)


def v1_v2(version, shared, group=8):
    head = struct.pack("<Ii7iB", 0x616B3432, version, DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ, 1 if shared else 0)
    if version == 2:
        head += struct.pack("<i", group)
    head += b"\0" * (256 - len(head))
    body = values(2 * LAYERS * DIM + DIM, 11)  # norms, always float32
    tensors = [VOCAB * DIM] + [m for m in matrices() for _ in range(LAYERS)] + ([] if shared else [VOCAB * DIM])
    for i, n in enumerate(tensors):
        if version == 1:
            body += values(n, 13 + i)
        else:  # int8 groups: the values, then one float32 scale per group
            body += bytes((j * 37 + i) % 256 for j in range(n)) + values(n // group, 17 + i)
    return head + body


def tokenizer():
    out = struct.pack("<i", max(len(t) for t in TOKENS))
    for i, t in enumerate(TOKENS):
        out += struct.pack("<fi", -float(i), len(t)) + t
    return out


def main():
    l2c = os.path.join(ROOT, "tests/fuzz/corpus/fuzz_llama2c")
    gg = os.path.join(ROOT, "tests/fuzz/corpus/fuzz_gguf")
    os.makedirs(l2c, exist_ok=True)
    os.makedirs(gg, exist_ok=True)
    seeds = {"tiny-v0-shared.bin": v0(True), "tiny-v0-wcls.bin": v0(False), "tiny-v1-shared.bin": v1_v2(1, True),
             "tiny-v1-wcls.bin": v1_v2(1, False), "tiny-v2-q8.bin": v1_v2(2, True)}
    for name, data in seeds.items():
        with open(os.path.join(l2c, name), "wb") as f:
            f.write(data)
    tok_dir = os.path.join(ROOT, "tests/fuzz/corpus/fuzz_tokenizer")
    os.makedirs(tok_dir, exist_ok=True)
    with open(os.path.join(ROOT, "tests/data/ggml-vocab-gpt-2.gguf.inp"), "rb") as f:
        strings = [t for t in f.read().split(b"\n__ggml_vocab_test__\n") if t]
    for i, t in enumerate(strings):
        with open(os.path.join(tok_dir, "vector-%02d" % i), "wb") as f:
            f.write(bytes([i % 16]) + t)
    state_dir = os.path.join(ROOT, "tests/fuzz/corpus/fuzz_session_state")
    os.makedirs(state_dir, exist_ok=True)
    with open(os.path.join(state_dir, "unchanged"), "wb") as f:
        f.write(b"\0\0\0\0")  # offset 0, length change 0, nothing written
    cli = os.path.join(ROOT, "bin/release/smallmind")
    with tempfile.TemporaryDirectory() as tmp:
        tok = os.path.join(tmp, "tok8.bin")
        with open(tok, "wb") as f:
            f.write(tokenizer())
        for src, out in (("tiny-v0-shared.bin", "tiny-tied.gguf"), ("tiny-v0-wcls.bin", "tiny.gguf")):
            r = subprocess.run([cli, "convert", "--llama2c", os.path.join(l2c, src), "--tokenizer", tok,
                                "--out", os.path.join(gg, out)])
            if r.returncode:
                sys.exit("smallmind convert failed on " + src)


if __name__ == "__main__":
    main()
