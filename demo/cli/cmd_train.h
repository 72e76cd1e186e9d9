// smallmind train / gradients, and the model files the training commands start from.
#pragma once
#include "smallmind/smallmind.h"

#include <string>

int cmd_train(int argc, char **argv);
int cmd_gradients(int argc, char **argv);

struct ShapeSpec {
    int dim = 0, hidden = 0, layers = 0, heads = 0, kv_heads = 0, vocab = 0; // vocab: 0 = from vocab_from
    int ctx = 512;
    std::string vocab_from; // a GGUF whose tokenizer is copied, "bytes" (256 byte symbols), or "" (none)
};

// Writes a Llama-shaped GGUF with zero F32 weights (a trainer with init_random fills
// them) and the vocabulary asked for. Returns false with a message on stderr.
bool write_shape_model(const ShapeSpec &s, const std::string &path);
