#include "cli_model.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

void read_model_options(Args &a, ModelOptions &o) {
    if (!a.str("--model", &o.path)) o.path = default_model_path();
    a.str("--tokenizer", &o.tokenizer);
    a.i64("--threads", &o.threads);
    a.str("--isa", &o.isa);
    a.i64("--budget-mb", &o.budget_mb);
    a.i64("--ctx", &o.ctx);
    a.i64("--sinks", &o.sinks);
    a.i64("--batch", &o.batch);
    a.i64("--sessions", &o.sessions);
    a.i64("--max-text", &o.max_text);
    a.str("--kv-type", &o.kv_type);
    for (std::string l; a.str("--lora", &l);) o.loras.push_back(l);
}

bool parse_lora_arg(const std::string &arg, std::string *path, float *scale) {
    *path = arg;
    *scale = 1.0f;
    const size_t colon = arg.find_last_of(':');
    if (colon == std::string::npos || arg.find('/', colon) != std::string::npos) return true;
    char *end = nullptr;
    const std::string num = arg.substr(colon + 1);
    const float v = strtof(num.c_str(), &end);
    if (num.empty() || *end) return false;
    *path = arg.substr(0, colon);
    *scale = v;
    return true;
}

bool apply_adapters(const Loaded &L, sm_session *s) {
    if (L.adapters.empty()) return true;
    const sm_status st = sm_session_set_adapters(s, L.adapters.data(), L.scales.data(), static_cast<int32_t>(L.adapters.size()));
    if (st != SM_OK) {
        report(L.rt, st, "adapters");
        return false;
    }
    return true;
}

bool parse_isa(const std::string &n, sm_isa *out) {
    if (n == "auto") *out = SM_ISA_AUTO;
    else if (n == "scalar") *out = SM_ISA_SCALAR;
    else if (n == "avx2") *out = SM_ISA_AVX2;
    else if (n == "avx512") *out = SM_ISA_AVX512;
    else if (n == "neon") *out = SM_ISA_NEON;
    else return false;
    return true;
}

sm_status Loaded::open_session(const sm_session_desc *d, sm_session **out) {
    const sm_status st = sm_session_create(model, d, out);
    if (st == SM_OK) sessions.push_back(*out);
    return st;
}

Loaded::~Loaded() {
    for (sm_session *s : sessions) sm_session_destroy(s);
    sm_model_destroy(model);
    sm_runtime_destroy(rt);
}

int report(sm_runtime *rt, sm_status st, const char *what) {
    fprintf(stderr, "error: %s: %s%s%s\n", what, sm_status_string(st), rt && *sm_last_error(rt) ? ": " : "",
            rt ? sm_last_error(rt) : "");
    return 1;
}

int usage_error(const char *msg) {
    fprintf(stderr, "error: %s\n", msg);
    return 2;
}

bool load_model(const ModelOptions &o, Loaded &out) {
    sm_runtime_desc rd = sm_runtime_desc_default();
    if (!parse_isa(o.isa, &rd.isa)) {
        fprintf(stderr, "error: --isa must be auto, scalar, avx2, avx512 or neon\n");
        return false;
    }
    if (o.threads < 0 || o.threads > 64) {
        fprintf(stderr, "error: --threads must be in [0, 64]\n");
        return false;
    }
    rd.threads = static_cast<int>(o.threads);
    sm_model_desc md = sm_model_desc_default();
    if (o.kv_type == "f16") md.kv_type = SM_KV_F16;
    else if (o.kv_type != "f32") {
        fprintf(stderr, "error: --kv-type must be f32 or f16\n");
        return false;
    }
    md.n_ctx = static_cast<int32_t>(o.ctx);
    md.n_sinks = static_cast<int32_t>(o.sinks);
    md.max_batch = static_cast<int32_t>(o.batch);
    md.max_sessions = static_cast<int32_t>(o.sessions);
    md.all_logits = o.all_logits;
    md.async_worker = o.async_worker;
    if (o.max_text > 0) md.max_text_bytes = static_cast<int32_t>(o.max_text);
    const char *tok = o.tokenizer.empty() ? nullptr : o.tokenizer.c_str();
    // Adapter slots: one per --lora file (their largest rank), plus what the command asks.
    std::vector<std::string> lora_paths;
    std::vector<float> lora_scales;
    int32_t lora_rank = static_cast<int32_t>(o.adapter_rank);
    for (const std::string &arg : o.loras) {
        std::string p;
        float sc;
        if (!parse_lora_arg(arg, &p, &sc)) {
            fprintf(stderr, "error: --lora %s: the scale after ':' is not a number\n", arg.c_str());
            return false;
        }
        lora_paths.push_back(p);
        lora_scales.push_back(sc);
    }
    if (lora_paths.size() > SM_MAX_SESSION_ADAPTERS) {
        fprintf(stderr, "error: at most %d --lora adapters\n", SM_MAX_SESSION_ADAPTERS);
        return false;
    }
    if (!lora_paths.empty()) {
        sm_runtime_desc probe = rd;
        probe.memory_budget = 4096;
        probe.threads = 0;
        sm_runtime *p = nullptr;
        if (sm_runtime_create(&probe, &p) != SM_OK) return false;
        for (const std::string &lp : lora_paths) {
            int32_t r = 0;
            const sm_status st = sm_adapter_file_rank(p, lp.c_str(), &r);
            if (st != SM_OK) {
                report(p, st, "--lora");
                sm_runtime_destroy(p);
                return false;
            }
            lora_rank = r > lora_rank ? r : lora_rank;
        }
        sm_runtime_destroy(p);
    }
    md.max_adapters = static_cast<int32_t>(lora_paths.size() + o.adapter_slots);
    if (md.max_adapters > 0) md.max_lora_rank = lora_rank;
    if (o.budget_mb > 0) {
        rd.memory_budget = static_cast<size_t>(o.budget_mb) << 20;
    } else {
        // Ask first, then make a runtime of exactly the size the plan needs.
        sm_runtime_desc probe = rd;
        probe.memory_budget = 4096;
        probe.threads = 0;
        sm_runtime *p = nullptr;
        sm_status st = sm_runtime_create(&probe, &p);
        if (st != SM_OK) {
            fprintf(stderr, "error: cannot create a runtime (isa %s): %s\n", o.isa.c_str(), sm_status_string(st));
            return false;
        }
        size_t need = 0;
        st = sm_model_memory_required(p, o.path.c_str(), tok, &md, &need);
        if (st != SM_OK) {
            report(p, st, "load");
            sm_runtime_destroy(p);
            return false;
        }
        sm_runtime_destroy(p);
        rd.memory_budget = need;
    }
    sm_status st = sm_runtime_create(&rd, &out.rt);
    if (st != SM_OK) {
        fprintf(stderr, "error: cannot create a runtime (isa %s, %zu bytes): %s\n", o.isa.c_str(), rd.memory_budget,
                sm_status_string(st));
        return false;
    }
    st = sm_model_load(out.rt, o.path.c_str(), tok, &md, &out.model);
    if (st != SM_OK) {
        report(out.rt, st, "load");
        return false;
    }
    sm_model_get_info(out.model, &out.info);
    for (size_t i = 0; i < lora_paths.size(); i++) {
        sm_adapter *ad = nullptr;
        st = sm_adapter_load(out.model, lora_paths[i].c_str(), &ad);
        if (st != SM_OK) {
            report(out.rt, st, "--lora");
            return false;
        }
        out.adapters.push_back(ad);
        out.scales.push_back(lora_scales[i]);
    }
    return true;
}

bool parse_lora_targets(const std::string &list, uint32_t *out) {
    static const char *const names[] = {"q", "k", "v", "o", "gate", "up", "down"}; // SM_LORA_Q << i
    *out = 0;
    size_t i = 0;
    while (i <= list.size()) {
        const size_t j = list.find(',', i);
        const std::string t = list.substr(i, j == std::string::npos ? std::string::npos : j - i);
        int found = -1;
        for (int k = 0; k < 7; k++)
            if (t == names[k]) found = k;
        if (found < 0) return false;
        *out |= static_cast<uint32_t>(SM_LORA_Q) << found;
        if (j == std::string::npos) break;
        i = j + 1;
    }
    return *out != 0;
}
