#include "perf/synth_adapter.h"
#include "perf/perf_commands.h"

#include "demo/common/cli_args.h"
#include "demo/common/cli_model.h"

#include "lora/adapter_file.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

bool write_synth_adapter(const sm_model_info &info, const SynthAdapter &s, const std::string &path) {
    sm::Hparams hp;
    snprintf(hp.arch, sizeof hp.arch, "%s", info.architecture);
    hp.dim = info.dim, hp.hidden_dim = info.hidden_dim, hp.n_layers = info.n_layers;
    hp.n_heads = info.n_heads, hp.n_kv_heads = info.n_kv_heads, hp.head_dim = info.head_dim;
    sm::TensorType t;
    if (s.type == "f32") t = sm::TensorType::F32;
    else if (s.type == "f16") t = sm::TensorType::F16;
    else if (s.type == "q8_0") t = sm::TensorType::Q8_0;
    else {
        fprintf(stderr, "error: adapter type must be f32, f16 or q8_0\n");
        return false;
    }
    // A: Kaiming-uniform over n_in (as a fresh LoRA), B: normal with b_std.
    std::mt19937_64 g(s.seed);
    std::vector<std::vector<float>> store;
    std::vector<sm::lora::PairValues> pairs;
    for (int l = 0; l < hp.n_layers; l++)
        for (int i = 0; i < sm::lora::kTargets; i++) {
            if (!(s.targets >> i & 1)) continue;
            const sm::lora::Shape sh = sm::lora::target_shape(hp, static_cast<sm::lora::Target>(i));
            const float bound = std::sqrt(6.0f / static_cast<float>(sh.n_in)); // Kaiming uniform, gain sqrt(2)
            std::uniform_real_distribution<float> ua(-bound, bound);
            std::normal_distribution<float> nb(0.0f, s.b_std > 0 ? s.b_std : 1.0f);
            store.emplace_back(static_cast<size_t>(s.rank) * sh.n_in);
            for (float &x : store.back()) x = ua(g);
            store.emplace_back(static_cast<size_t>(sh.n_out) * s.rank);
            for (float &x : store.back()) x = s.b_std > 0 ? nb(g) : 0.0f;
            sm::lora::PairValues p;
            p.layer = l, p.target = static_cast<sm::lora::Target>(i), p.rank = s.rank, p.n_in = sh.n_in, p.n_out = sh.n_out;
            pairs.push_back(p);
        }
    for (size_t i = 0; i < pairs.size(); i++) pairs[i].a = store[2 * i].data(), pairs[i].b = store[2 * i + 1].data();
    sm::Error err;
    if (sm::lora::write_adapter_file(path.c_str(), hp.arch, s.alpha, pairs, t, err) != SM_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        return false;
    }
    return true;
}

int cmd_synth_adapter(int argc, char **argv) {
    Args a(argc, argv, 2);
    ModelOptions mo;
    read_model_options(a, mo);
    SynthAdapter s;
    int64_t rank = s.rank, seed = 1;
    std::string targets = "q,k,v,o,gate,up,down", out;
    a.i64("--rank", &rank);
    a.f32("--alpha", &s.alpha);
    a.i64("--seed", &seed);
    a.f32("--b-std", &s.b_std);
    a.str("--targets", &targets);
    a.str("--type", &s.type);
    a.str("--out", &out);
    if (!a.finish("synth-adapter")) return 2;
    if (out.empty()) return usage_error("synth-adapter: --out is required");
    if (rank < 1 || rank > 1024) return usage_error("synth-adapter: --rank must be in [1, 1024]");
    if (!parse_lora_targets(targets, &s.targets))
        return usage_error("synth-adapter: --targets is a list of q,k,v,o,gate,up,down");
    s.rank = static_cast<int32_t>(rank);
    s.seed = static_cast<uint64_t>(seed);
    Loaded L;
    if (!load_model(mo, L)) return 1;
    if (!write_synth_adapter(L.info, s, out)) return 1;
    fprintf(stderr, "wrote %s (rank %d, alpha %g, %s)\n", out.c_str(), s.rank, s.alpha, s.type.c_str());
    return 0;
}
