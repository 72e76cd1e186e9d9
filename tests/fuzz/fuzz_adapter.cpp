// libFuzzer target: LoRA adapter files (GGUF parse, validation against a base model's
// shapes, then the values read into a slot) on arbitrary bytes.
#include "format/gguf.h"
#include "lora/adapter.h"
#include "lora/adapter_file.h"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sm::gguf::File f;
    sm::Error err;
    if (sm::gguf::parse(data, size, f, err) != SM_OK) return 0;
    sm::Hparams hp; // stories260K's shapes, the model the seed adapters were made for
    hp.dim = 64, hp.hidden_dim = 172, hp.n_layers = 5, hp.n_heads = 8, hp.n_kv_heads = 4, hp.head_dim = 8;
    sm::lora::AdapterFile a;
    if (sm::lora::adapter_from_gguf(f, data, hp, a, err) != SM_OK || a.max_rank > 64) return 0;
    static std::vector<uint8_t> slot(sm::lora::slot_bytes(hp, 64) + 64);
    sm::Bump b = sm::Bump::over(slot.data(), slot.size());
    sm::lora::Adapter ad;
    sm::lora::layout_slot(hp, 64, b, ad);
    if (!sm::lora::fill_slot(a, ad)) __builtin_trap(); // validated files always read
    return 0;
}
