/* The public header compiled as C99 (-pedantic) and used from C: load the default model,
 * generate greedily, check the text against the fixture, exercise errors. Prints the same
 * "TESTCASES N passed, M failed" line as the Catch2 runner. */
#include "smallmind/smallmind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;
#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (cond) passed++;                                                                \
        else { failed++; fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } \
    } while (0)

static char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    char *buf;
    long size;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (char *)malloc((size_t)size + 1);
    *n = fread(buf, 1, (size_t)size, f);
    buf[*n] = 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    const char *model_path = argc > 1 ? argv[1] : "assets/stories260K.gguf";
    const char *fixture = argc > 2 ? argv[2] : "tests/data/stories260K.greedy.txt";
    sm_runtime_desc rd = sm_runtime_desc_default();
    sm_runtime *rt = NULL;
    sm_model *model = NULL;
    sm_session *s = NULL;
    sm_session_desc sd;
    sm_step_result r;
    char text[8192] = "Once upon a time";
    size_t len = strlen(text), want_len = 0;
    char *want;
    int steps = 0;

    rd.memory_budget = (size_t)32 << 20;
    CHECK(sm_runtime_create(&rd, &rt) == SM_OK);
    CHECK(sm_model_load(rt, model_path, NULL, NULL, &model) == SM_OK);
    if (!model) {
        fprintf(stderr, "cannot load %s: %s\n", model_path, sm_last_error(rt));
        printf("TESTCASES %d passed, %d failed\n", 0, 1);
        return 1;
    }
    sd = sm_session_desc_default();
    sd.sampler.temperature = 0.0f;
    sd.max_tokens = 176;
    CHECK(sm_session_create(model, &sd, &s) == SM_OK);
    CHECK(sm_session_submit_text(s, text, len) == SM_OK);
    do {
        CHECK(sm_session_step(s, 500, &r) == SM_OK);
        if (len + r.text_len < sizeof text) {
            memcpy(text + len, r.text, r.text_len);
            len += r.text_len;
        }
        steps++;
    } while (r.finish == SM_FINISH_NONE && steps < 1000000);
    text[len] = 0;
    CHECK(r.finish == SM_FINISH_MAX_TOKENS);
    want = read_all(fixture, &want_len);
    if (!want) fprintf(stderr, "cannot read fixture %s\n", fixture);
    CHECK(want != NULL);
    CHECK(want && want_len == len && memcmp(want, text, len) == 0);
    CHECK(steps > 1); /* a 500 us budget slices the work */
    free(want);

    /* errors are codes and messages, never crashes */
    CHECK(sm_session_step(NULL, 0, &r) == SM_ERR_INVALID_ARGUMENT);
    {
        sm_model *missing = NULL;
        CHECK(sm_model_load(rt, "/nonexistent.gguf", NULL, NULL, &missing) == SM_ERR_IO);
        CHECK(missing == NULL);
    }
    CHECK(strstr(sm_last_error(rt), "/nonexistent.gguf") != NULL);
    CHECK(strcmp(sm_status_string(SM_ERR_FORMAT), "corrupt or truncated file") == 0);

    sm_session_destroy(s);
    sm_model_destroy(model);
    sm_runtime_destroy(rt);
    printf("TESTCASES %d passed, %d failed\n", failed ? 0 : 1, failed ? 1 : 0);
    fprintf(stderr, "c api: %d checks passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
