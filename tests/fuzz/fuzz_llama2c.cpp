// libFuzzer target: llama2.c checkpoints and tokenizer.bin on arbitrary bytes.
#include "format/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sm::Error err;
    sm::ModelFile m;
    sm::model_from_llama2c(data, size, m, err);
    err.clear();
    sm::text::VocabSource v;
    std::vector<char> storage;
    sm::vocab_from_llama2c(data, size, 512, v, storage, err);
    return 0;
}
