// smallmind tokenize / detokenize: the model's tokenizer on its own.
#include "commands.h"
#include "demo/common/cli_model.h"

#include <cstdio>
#include <vector>

int cmd_tokenize(int argc, char **argv) {
    Args a(argc, argv, 2);
    ModelOptions mo;
    read_model_options(a, mo);
    std::string text, file;
    const bool has_text = a.str("--text", &text), has_file = a.str("--file", &file);
    const bool ids_only = a.flag("--ids"), bos = a.flag("--bos"), special = a.flag("--special");
    if (!a.finish("tokenize")) return 2;
    if (has_text == has_file) return usage_error("tokenize needs --text TEXT or --file FILE");
    if (has_file) { // the file's bytes exactly, trailing newline included
        FILE *f = fopen(file.c_str(), "rb");
        if (!f) return usage_error("cannot open the --file");
        text.clear();
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
        fclose(f);
    }
    if (mo.max_text <= 0) mo.max_text = static_cast<int64_t>(text.size()) + 16;
    mo.ctx = 16;
    mo.batch = 1;
    Loaded L;
    if (!load_model(mo, L)) return 1;
    std::vector<int32_t> ids(text.size() + 16);
    size_t n = 0;
    const uint32_t flags = (bos ? SM_TOKENIZE_ADD_BOS : 0) | (special ? SM_TOKENIZE_PARSE_SPECIAL : 0);
    sm_status st = sm_tokenize(L.model, text.data(), text.size(), flags, ids.data(), ids.size(), &n);
    if (st != SM_OK) return report(L.rt, st, "tokenize");
    if (ids_only) {
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
        printf("\n");
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char piece[512];
        size_t len = 0;
        sm_detokenize(L.model, &ids[i], 1, piece, sizeof piece, &len);
        printf("%6d  '%.*s'\n", ids[i], (int)len, piece);
    }
    return 0;
}

int cmd_detokenize(int argc, char **argv) {
    Args a(argc, argv, 2);
    ModelOptions mo;
    read_model_options(a, mo);
    std::vector<int32_t> ids;
    const bool has_ids = a.ids("--tokens", &ids);
    if (!a.finish("detokenize")) return 2;
    if (!has_ids) return usage_error("detokenize needs --tokens 1,2,3");
    mo.ctx = 16;
    mo.batch = 1;
    Loaded L;
    if (!load_model(mo, L)) return 1;
    size_t len = 0;
    sm_status st = sm_detokenize(L.model, ids.data(), ids.size(), nullptr, 0, &len);
    if (st != SM_OK && st != SM_ERR_CAPACITY) return report(L.rt, st, "detokenize");
    std::vector<char> buf(len + 1);
    st = sm_detokenize(L.model, ids.data(), ids.size(), buf.data(), buf.size(), &len);
    if (st != SM_OK) return report(L.rt, st, "detokenize");
    fwrite(buf.data(), 1, len, stdout);
    return 0;
}
