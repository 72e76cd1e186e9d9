// Llama-shaped GGUF files with zero F32 weights and a chosen vocabulary: what
// `smallmind train` starts from when training from scratch (the trainer fills the
// weights from its seed), and what `bench-train` measures.
#pragma once
#include <string>

struct ShapeSpec {
    int dim = 0, hidden = 0, layers = 0, heads = 0, kv_heads = 0, vocab = 0; // vocab: 0 = from vocab_from
    int ctx = 512;
    std::string vocab_from; // a GGUF whose tokenizer is copied, "bytes" (256 byte symbols), or "" (none)
};

// Returns false with a message on stderr.
bool write_shape_model(const ShapeSpec &s, const std::string &path);
