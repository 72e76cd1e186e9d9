// libFuzzer target: the GGUF parser and the llama-architecture mapping on arbitrary bytes.
#include "format/gguf.h"
#include "format/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sm::gguf::File f;
    sm::Error err;
    if (sm::gguf::parse(data, size, f, err) != SM_OK) return 0;
    sm::ModelFile m;
    sm::model_from_gguf(f, data, m, err);
    return 0;
}
