// smallmind export: LoRA adapters merged into a GGUF model (sm_lora_merge).
#include "commands.h"
#include "demo/common/cli_model.h"

#include <cstdio>
#include <string>
#include <vector>

int cmd_export(int argc, char **argv) {
    Args a(argc, argv, 2);
    std::string model = default_model_path(), out, type;
    a.str("--model", &model);
    std::vector<std::string> loras;
    for (std::string l; a.str("--lora", &l);) loras.push_back(l);
    a.str("--out", &out);
    a.str("--type", &type);
    if (!a.finish("export")) return 2;
    if (out.empty()) return usage_error("export: --out is required");
    std::vector<std::string> paths;
    std::vector<float> scales;
    for (const std::string &l : loras) {
        std::string p;
        float s;
        if (!parse_lora_arg(l, &p, &s)) return usage_error("export: --lora PATH[:SCALE] with a number after ':'");
        paths.push_back(p);
        scales.push_back(s);
    }
    std::vector<const char *> ptrs;
    for (const std::string &p : paths) ptrs.push_back(p.c_str());
    sm_runtime_desc rd = sm_runtime_desc_default();
    rd.memory_budget = 4096;
    rd.threads = 0;
    sm_runtime *rt = nullptr;
    if (sm_runtime_create(&rd, &rt) != SM_OK) return 1;
    const sm_status st = sm_lora_merge(rt, model.c_str(), ptrs.data(), scales.data(), static_cast<int32_t>(ptrs.size()),
                                       out.c_str(), type.empty() ? nullptr : type.c_str());
    const int code = st == SM_OK ? 0 : report(rt, st, "export");
    if (st == SM_OK) fprintf(stderr, "wrote %s (%zu adapters merged)\n", out.c_str(), paths.size());
    sm_runtime_destroy(rt);
    return code;
}
