/* SmallMind: an embeddable runtime for small Llama-family language models.
 *
 * The one public header. C ABI, `sm_` prefix, opaque handles, status codes.
 *
 * Data flows one way: file -> plan -> arena -> step -> tokens.
 *   sm_runtime_create   one fixed memory budget (one allocation), optional thread pool
 *   sm_model_load       plans every byte the model and its sessions need; fails with
 *                       SM_ERR_BUDGET (and the bytes needed) if the plan does not fit
 *   sm_session_create   takes a KV-cache slot from the model's fixed pool
 *   sm_session_step     does a bounded slice of work and returns; never allocates
 *
 * Threading: a runtime and everything created from it is used from one thread at a
 * time (the host's). While a model's async worker runs (sm_model_start_async), each
 * session function says what it does: "async: ok" (lock-free, runs alongside), "async:
 * pauses" (waits for the worker to finish its unit, about a millisecond, does its work,
 * and lets the worker go on), or "async: SM_ERR_STATE" (the worker owns that work).
 *
 * Handles and lifetimes: a session belongs to its model, a model to its runtime. Destroy
 * in that order; a destroy that would leave a live child behind is refused with
 * SM_ERR_STATE (and logged), freeing nothing. A destroyed model's or session's handle is
 * stale: every function answers it with SM_ERR_INVALID_ARGUMENT (handles carry a
 * generation), never touching freed memory. A destroyed runtime's handle must not be used.
 * NULL handles give SM_ERR_INVALID_ARGUMENT, except in the destroy functions (no-op, SM_OK).
 * Desc fields documented "0 = default" take the default at 0; any other value out of
 * the documented range gives SM_ERR_INVALID_ARGUMENT.
 */
#ifndef SMALLMIND_H
#define SMALLMIND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SM_VERSION_MAJOR 0
#define SM_VERSION_MINOR 4
#define SM_VERSION_PATCH 0

/* ------------------------------------------------------------------ status */

typedef enum sm_status {
    SM_OK = 0,
    SM_ERR_INVALID_ARGUMENT = 1, /* NULL handle or pointer, value out of range */
    SM_ERR_IO = 2,               /* file cannot be opened, read or written */
    SM_ERR_FORMAT = 3,           /* truncated or corrupt file, wrong tensor shape */
    SM_ERR_UNSUPPORTED = 4,      /* valid file, but a feature SmallMind lacks (quant type...) */
    SM_ERR_BUDGET = 5,           /* the runtime's memory budget is too small */
    SM_ERR_CAPACITY = 6,         /* a planned capacity (sessions, text length...) is exceeded */
    SM_ERR_STATE = 7,            /* call not valid in the object's current state */
    SM_ERR_MISMATCH = 8,         /* saved state belongs to another model or version */
    SM_ERR_CANCELLED = 9,        /* work was cancelled by the host */
    SM_ERR_INTERNAL = 10
} sm_status;

/* A short constant English name for a status ("budget too small"...). Never NULL. */
const char *sm_status_string(sm_status status);

/* ------------------------------------------------------------------ runtime */

typedef struct sm_runtime sm_runtime;
typedef struct sm_model sm_model;
typedef struct sm_session sm_session;
typedef struct sm_adapter sm_adapter;

/* Instruction sets. SM_ISA_AUTO picks the best the CPU has; a lower one can be forced
 * (tests and benchmarks cover every path on one machine). */
typedef enum sm_isa {
    SM_ISA_AUTO = 0,
    SM_ISA_SCALAR = 1,
    SM_ISA_AVX2 = 2,   /* AVX2 + FMA + F16C */
    SM_ISA_AVX512 = 3, /* AVX-512 F/BW/DQ/VL (+VNNI when present) */
    SM_ISA_NEON = 4    /* AArch64 Advanced SIMD (+dotprod when present) */
} sm_isa;

/* Host allocator: the runtime asks it for exactly one block (the arena) at creation and
 * gives it back at sm_runtime_destroy. Both functions are required. */
typedef struct sm_allocator {
    void *(*alloc)(void *user, size_t bytes, size_t alignment);
    void (*free)(void *user, void *ptr);
    void *user;
} sm_allocator;

/* Host job system (Jolt style): run fn(ctx, i) for every i in [0, n) on the host's
 * threads and return when all are done. The runtime calls it from the thread that runs
 * a step (the host's, or the async worker's); the calling thread may run tasks itself.
 * parallel_for is required and max_parallelism >= 1. */
typedef struct sm_job_system {
    void (*parallel_for)(void *user, void (*fn)(void *ctx, int task), void *ctx, int n_tasks);
    int max_parallelism; /* tasks worth creating per call (>= 1) */
    void *user;
} sm_job_system;

typedef enum sm_log_level { SM_LOG_ERROR = 0, SM_LOG_WARN = 1, SM_LOG_INFO = 2, SM_LOG_DEBUG = 3 } sm_log_level;
typedef void (*sm_log_fn)(void *user, sm_log_level level, const char *message);

typedef struct sm_runtime_desc {
    uint32_t struct_size;          /* sizeof(sm_runtime_desc) */
    size_t memory_budget;          /* bytes; every model, session and scratch buffer fits in it */
    int threads;                   /* threads doing the work, the caller's included: 0 or 1 = the
                                      caller's thread only, N = the caller plus N-1 pool threads
                                      (N <= 65); ignored when jobs is set */
    sm_isa isa;                    /* SM_ISA_AUTO, or force a lower instruction set (an sm_isa value;
                                      one the CPU or build lacks: SM_ERR_UNSUPPORTED) */
    const sm_allocator *allocator; /* NULL: mimalloc */
    const sm_job_system *jobs;     /* NULL: the runtime's own pool (threads > 0) or none */
    sm_log_fn log;
    void *log_user;
} sm_runtime_desc;

sm_runtime_desc sm_runtime_desc_default(void); /* 256 MiB, 0 threads, AUTO */

/* memory_budget > 0; threads in [0, 65]; see sm_allocator and sm_job_system. */
sm_status sm_runtime_create(const sm_runtime_desc *desc, sm_runtime **out);
/* SM_ERR_STATE (nothing freed) while models are loaded. NULL: SM_OK. */
sm_status sm_runtime_destroy(sm_runtime *rt);

/* The message of the last failed call on this runtime or any object created from it,
 * e.g. "memory budget too small: need 41943040 bytes, have 33554432". Never NULL. */
const char *sm_last_error(const sm_runtime *rt);

/* The instruction set the runtime's kernels use ("avx512", "avx2", "scalar", "neon"). */
const char *sm_runtime_isa(const sm_runtime *rt);

typedef struct sm_memory_stats {
    size_t budget; /* the arena's size */
    size_t used;   /* bytes handed out to models and sessions */
    size_t peak;
} sm_memory_stats;
sm_status sm_runtime_memory(const sm_runtime *rt, sm_memory_stats *out);

/* ------------------------------------------------------------------ model */

/* Element type of the KV caches. F16 halves their memory and the bytes attention reads;
 * keys and values are rounded to half precision once, when written. */
typedef enum sm_kv_type { SM_KV_F32 = 0, SM_KV_F16 = 1 } sm_kv_type;

typedef struct sm_model_desc {
    uint32_t struct_size;   /* sizeof(sm_model_desc) */
    int32_t max_sessions;   /* KV-cache slots in the pool, [1, 64] (0 = default 1) */
    int32_t n_ctx;          /* attention span per session in positions, [2, 4194304]; 0 = the
                               model's training context, capped at 2048 */
    int32_t n_sinks;        /* attention-sink positions kept when the ring wraps, [0, 64] and
                               below n_ctx (default 4) */
    int32_t max_batch;      /* rows per forward pass: prefill chunk and batched decode,
                               [1, 4096] (0 = default 64) */
    int32_t max_text_bytes; /* longest text one tokenize or submit call accepts, [1, 2^28]
                               (0 = default 16384). A session's input queue holds
                               max_text_bytes + 256 tokens (see sm_session_submit_tokens) */
    int32_t all_logits;     /* 0 or 1: plan logits for every row of a batch (sm_session_eval) */
    int32_t async_worker;   /* 0 or 1: make the worker thread for sm_model_start_async at load */
    int32_t kv_type;        /* sm_kv_type of the KV caches (default SM_KV_F32) */
    int32_t max_adapters;   /* LoRA adapter slots (sm_adapter_load), planned at load (default 0) */
    int32_t max_lora_rank;  /* the largest adapter rank the slots take (default 16) */
} sm_model_desc;

sm_model_desc sm_model_desc_default(void);

/* The exact number of arena bytes sm_model_load would take for these files and desc. */
sm_status sm_model_memory_required(sm_runtime *rt, const char *path, const char *tokenizer_path, const sm_model_desc *desc,
                                   size_t *bytes);

/* Loads a GGUF file or a llama2.c checkpoint (.bin). A llama2.c checkpoint carries no
 * vocabulary: pass its tokenizer.bin as tokenizer_path (NULL otherwise). */
sm_status sm_model_load(sm_runtime *rt, const char *path, const char *tokenizer_path, const sm_model_desc *desc, sm_model **out);
/* Stops the async worker and frees the model's memory. SM_ERR_STATE (nothing freed)
 * while sessions are open on it. NULL: SM_OK. */
sm_status sm_model_destroy(sm_model *model);

typedef struct sm_model_info {
    char architecture[32];
    char name[64];
    char weight_type[16]; /* the main weights' type: "f32", "f16", "q8_0"... */
    char tokenizer[16];   /* "llama" (SentencePiece BPE), "gpt2" (byte-level BPE), "none" */
    int32_t n_vocab, dim, hidden_dim, n_layers, n_heads, n_kv_heads, head_dim;
    int32_t n_ctx_train;                             /* context the model was trained with */
    int32_t n_ctx, n_sinks, max_sessions, max_batch; /* as planned */
    float rope_theta, norm_eps;
    int32_t bos, eos;       /* -1 when absent */
    int32_t add_bos;        /* prompts start with BOS (sm_session_submit_text adds it) */
    char chat_template[16]; /* "chatml", "llama2", "zephyr", "llama3", or "plain" */
    int64_t n_params;
    size_t weight_bytes, kv_bytes, activation_bytes, total_bytes;
    size_t decode_weight_bytes; /* weight bytes one decode step reads: all but an untied
                                   embedding, of which a token reads one row */
    int32_t kv_type;            /* sm_kv_type of the KV caches */
} sm_model_info;

sm_status sm_model_get_info(const sm_model *model, sm_model_info *out);

/* The weights by tensor type, then one line per planned buffer ("weights  1234 bytes"),
 * into buf, for `smallmind info`.
 * Writes at most cap bytes (NUL included); *needed (optional) gets the full length. */
sm_status sm_model_describe(const sm_model *model, char *buf, size_t cap, size_t *needed);

/* ------------------------------------------------------------------ text */

typedef enum sm_tokenize_flags {
    SM_TOKENIZE_ADD_BOS = 1,      /* prepend BOS (when the model has one) */
    SM_TOKENIZE_PARSE_SPECIAL = 2 /* match control tokens like <|im_start|> in the text */
} sm_tokenize_flags;

/* Text to token ids (flags: sm_tokenize_flags only). Invalid UTF-8 is never an error; it is read as llama.cpp reads it:
 * byte-level BPE sees U+FFFD per bad byte, SentencePiece keeps the bytes as byte tokens.
 * If cap is too small, returns SM_ERR_CAPACITY with *n_tokens set to the count needed.
 * The text functions and sm_model_get_info / sm_model_describe: async: ok. */
sm_status sm_tokenize(sm_model *model, const char *text, size_t len, uint32_t flags, int32_t *tokens, size_t cap,
                      size_t *n_tokens);

/* Token ids to text (the exact bytes; no leading-space removal). */
sm_status sm_detokenize(sm_model *model, const int32_t *tokens, size_t n, char *buf, size_t cap, size_t *len);

/* The model's chat template applied to messages (roles "system", "user", "assistant"),
 * ending with the assistant prefix when add_assistant is set. */
typedef struct sm_chat_message {
    const char *role;
    const char *content;
} sm_chat_message;
sm_status sm_chat_format(const sm_model *model, const sm_chat_message *messages, size_t n, int add_assistant, char *buf,
                         size_t cap, size_t *len);

/* ------------------------------------------------------------------ sampling */

/* Returns nonzero if the token may be sampled next. Called only for tokens that survive
 * the other filters, most likely first; keep it cheap. With several sessions it may be
 * called from a runtime thread (sessions are sampled in parallel), one session at a time. */
typedef int (*sm_token_filter_fn)(void *user, int32_t token);

typedef struct sm_logit_bias {
    int32_t token;
    float bias;
} sm_logit_bias;

/* Ranges (NaN is outside every one; SM_ERR_INVALID_ARGUMENT): */
typedef struct sm_sampler_desc {
    float temperature;       /* finite, >= 0; 0 = greedy (argmax) */
    int32_t top_k;           /* >= 0; 0 = off */
    float top_p;             /* [0, 1]; 1 = off */
    float min_p;             /* [0, 1]; 0 = off */
    float repeat_penalty;    /* finite, > 0; 1 = off (llama.cpp's rule: divide positive logits) */
    float frequency_penalty; /* finite; 0 = off */
    float presence_penalty;  /* finite; 0 = off */
    int32_t penalty_window;  /* >= 0: last N tokens the penalties look at, at most 4096
                                used (default 64) */
    const sm_logit_bias *logit_bias;
    size_t n_logit_bias; /* <= 256 (SM_ERR_CAPACITY),
tokens in [0, n_vocab) */
    sm_token_filter_fn filter;
    void *filter_user;
    uint64_t seed;
} sm_sampler_desc;

/* ------------------------------------------------------------------ session */

typedef enum sm_phase {
    SM_PHASE_IDLE = 0,    /* nothing submitted */
    SM_PHASE_PREFILL = 1, /* consuming submitted tokens */
    SM_PHASE_DECODE = 2,  /* generating */
    SM_PHASE_DONE = 3     /* finished (see sm_finish_reason); submit more to go on */
} sm_phase;

typedef enum sm_finish_reason {
    SM_FINISH_NONE = 0,
    SM_FINISH_EOS = 1,
    SM_FINISH_MAX_TOKENS = 2,
    SM_FINISH_STOP_STRING = 3,
    SM_FINISH_CHOICE = 4,
    SM_FINISH_CANCELLED = 5
} sm_finish_reason;

typedef struct sm_session_desc {
    uint32_t struct_size; /* sizeof(sm_session_desc) */
    sm_sampler_desc sampler;
    int32_t max_tokens;  /* tokens generated per submit (0 = until EOS or cancel) */
    int32_t stop_at_eos; /* default 1: stop at end-of-generation tokens (and BOS) */
    const char *const *stop_strings;
    size_t n_stop_strings; /* copied at creation */
    /* Built-in choice constraint: the generated text must be exactly one of these
     * strings; generation ends as soon as one is complete. Copied at creation. */
    const char *const *choices;
    size_t n_choices;
} sm_session_desc;

sm_session_desc sm_session_desc_default(void);

/* Takes a KV slot from the model's pool: SM_ERR_CAPACITY when all are in use. desc NULL:
 * sm_session_desc_default(). Sampler ranges: see sm_sampler_desc (SM_ERR_INVALID_ARGUMENT);
 * stop strings and choices must be non-empty (SM_ERR_INVALID_ARGUMENT), at most 8 stop
 * strings of <= 192 bytes and 32 choices of <= 1023 bytes, 4096 bytes in all
 * (SM_ERR_CAPACITY); max_tokens >= 0; stop_at_eos 0 or 1. async: pauses. */
sm_status sm_session_create(sm_model *model, const sm_session_desc *desc, sm_session **out);
/* Gives the slot back; its handle becomes stale. NULL: SM_OK. async: pauses (the other
 * sessions go on). */
sm_status sm_session_destroy(sm_session *session);

/* Queue input. Text is tokenized now (BOS added at the start of a fresh session when the
 * model asks for it). Generation starts after the queued tokens are consumed. A session
 * holds at most max_text_bytes + 256 submitted tokens not yet through the model:
 * SM_ERR_CAPACITY (nothing queued) beyond that. Tokens must be in [0, n_vocab).
 * async: ok. */
sm_status sm_session_submit_text(sm_session *s, const char *utf8, size_t len);
sm_status sm_session_submit_tokens(sm_session *s, const int32_t *tokens, size_t n);

/* Forget everything (tokens, KV cache, sampler state); keeps the slot and settings.
 * async: pauses. */
sm_status sm_session_reset(sm_session *s);
/* Stop generating after the current unit of work; the result reports SM_FINISH_CANCELLED.
 * async: ok. */
sm_status sm_session_cancel(sm_session *s);

typedef struct sm_step_result {
    sm_phase phase;
    sm_finish_reason finish; /* set once, when the phase becomes DONE */
    const int32_t *tokens;   /* tokens generated since the previous result */
    size_t n_tokens;
    const char *text; /* their text, whole UTF-8 characters only (not NUL-ended) */
    size_t text_len;
    float progress; /* 0..1 through the current prefill or token */
    uint32_t units; /* units of work done by this call */
    uint64_t elapsed_us;
} sm_step_result;

/* Does at most budget_us of work (plus at most one unit: a layer of a chunk) on the
 * model's shared work, for every session that has some (sessions are batched), and
 * returns this session's new output. budget_us = 0: run until this session is DONE.
 * Pointers in *out stay valid until the next call on this session. The tokens are the
 * same for every budget and thread count. The step learns each unit's cost, and how far
 * past its plan a step tends to end on this machine (the 99th percentile, at most half
 * the budget): it plans to end that much early. async: SM_ERR_STATE. */
sm_status sm_session_step(sm_session *s, uint32_t budget_us, sm_step_result *out);

/* Model-wide step (several NPCs): advances all sessions' work within the budget. Each
 * session's output is then read with sm_session_poll. async: SM_ERR_STATE. */
sm_status sm_model_step(sm_model *model, uint32_t budget_us, uint32_t *units_done);

/* Collects a session's output produced by sm_model_step or the async worker.
 * Never blocks. async: ok. */
sm_status sm_session_poll(sm_session *s, sm_step_result *out);

/* Worker mode: a thread the runtime made at sm_model_load (sm_model_desc.async_worker = 1;
 * otherwise SM_ERR_STATE) runs sm_model_step continuously while any session has work, in
 * slices of about a millisecond; its parallel work goes to the runtime's pool or the
 * host's job system, called from that thread. The host polls sessions. Starting a
 * running worker or stopping a stopped one does nothing. */
sm_status sm_model_start_async(sm_model *model);
sm_status sm_model_stop_async(sm_model *model); /* waits for the current unit to end */

/* Teacher-forced evaluation: feeds tokens and writes n * n_vocab logits (row i = the
 * logits after token i) into logits (may be NULL). Needs all_logits in the model desc
 * to write more than the last row. Runs to completion. async: SM_ERR_STATE. */
sm_status sm_session_eval(sm_session *s, const int32_t *tokens, size_t n, float *logits, size_t logits_cap);

/* The logits after the last consumed token (n_vocab floats, before sampling filters);
 * SM_ERR_STATE before any. async: SM_ERR_STATE. */
sm_status sm_session_logits(const sm_session *s, const float **logits, int32_t *n_vocab);

typedef struct sm_session_info {
    sm_phase phase;      /* PREFILL as soon as submitted tokens wait */
    int64_t n_past;      /* positions consumed so far (grows past n_ctx: the ring wraps) */
    int32_t n_pending;   /* submitted tokens not yet through the model */
    int32_t n_generated; /* tokens generated since the last submit */
} sm_session_info;
/* async: ok. */
sm_status sm_session_get_info(const sm_session *s, sm_session_info *out);

/* Save to a caller-owned buffer: a snapshot of the session (tokens, queued input, KV
 * cache, sampler settings and RNG state, logit biases, stop strings, choices; not the
 * host's filter callback, which stays the loading session's) that changes nothing,
 * whatever the moment: queued input,
 * mid-prefill, mid-decode, a forward pass half done. A session loaded from it continues
 * with exactly the tokens the original produces from that moment (output the original
 * produced before the save and the host has not polled yet is not part of it). With buf
 * NULL, *size gets the bytes needed; cap below them: SM_ERR_CAPACITY (*size set). While
 * the async worker runs the size moves between calls: pass a buffer with room and read
 * *size. async: pauses.
 * Load: a damaged state gives SM_ERR_FORMAT, one from another model (or n_ctx, n_sinks,
 * max_batch, kv_type) or version SM_ERR_MISMATCH, one with more queued tokens than this
 * model's queue SM_ERR_CAPACITY; on failure the session is reset. async: pauses. */
sm_status sm_session_save(const sm_session *s, void *buf, size_t cap, size_t *size);
sm_status sm_session_load(sm_session *s, const void *buf, size_t size);

/* ------------------------------------------------------------------ LoRA adapters
 *
 * llama.cpp's GGUF LoRA adapters (general.type "adapter", adapter.type "lora",
 * adapter.lora.alpha, tensors "<base tensor>.lora_a" / ".lora_b" in f32, f16, bf16 or q8_0)
 * on the projections attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down.
 * A model takes desc.max_adapters of them, each of rank <= desc.max_lora_rank, in slots
 * planned at load. Each session applies up to SM_MAX_SESSION_ADAPTERS of them with its own
 * scales, y = W x + sum_i scale_i * alpha_i / rank_i * B_i A_i x, without merging: sessions
 * with different adapters still share one batched forward pass. */
#define SM_MAX_SESSION_ADAPTERS 4

/* Reads an adapter into a free slot. SM_ERR_CAPACITY when every slot is taken or its rank
 * exceeds max_lora_rank; SM_ERR_MISMATCH for an adapter of another architecture or
 * shape (the message names the tensor). Parsing the file uses the heap briefly, as
 * sm_model_load does; the values go into the planned slot. */
sm_status sm_adapter_load(sm_model *model, const char *path, sm_adapter **out);
/* The largest rank in an adapter file, to size max_lora_rank before loading the model. */
sm_status sm_adapter_file_rank(sm_runtime *rt, const char *path, int32_t *rank);
/* Frees the slot. SM_ERR_STATE while a session applies it or a forward pass is in flight
 * (sm_model_step mid-batch, or the async worker running). */
sm_status sm_adapter_unload(sm_adapter *adapter);
/* The adapters this session applies from its next forward pass on (n = 0: none; scales
 * NULL: all 1). Not while the async worker runs (SM_ERR_STATE). */
sm_status sm_session_set_adapters(sm_session *s, sm_adapter *const *adapters, const float *scales, int32_t n);
/* Writes the adapter (a loaded one, or the one a LoRA trainer publishes to, as of its last
 * optimizer step) in llama.cpp's GGUF LoRA format; type "f32" (NULL), "f16" or "q8_0". */
sm_status sm_adapter_save(sm_adapter *adapter, const char *path, const char *type);

/* ------------------------------------------------------------------ tools */

/* Merges adapters into a GGUF model: W' = W + sum_i scale_i * alpha_i / rank_i * B_i A_i,
 * written with the base's metadata; matrix_type ("f32", "f16", "q8_0", "q4_0"...) sets the
 * type of every weight matrix, NULL keeps each one's. */
sm_status sm_lora_merge(sm_runtime *rt, const char *model_path, const char *const *adapter_paths, const float *scales, int32_t n,
                        const char *out_path, const char *matrix_type);

/* Converts a llama2.c checkpoint and tokenizer.bin into a GGUF file (F32 weights and the
 * full tokenizer metadata, llama.cpp's tensor and key names). */
sm_status sm_convert_llama2c(sm_runtime *rt, const char *checkpoint_path, const char *tokenizer_path, const char *gguf_out_path);

/* ------------------------------------------------------------------ training */

/* Training in the runtime's arena, a bounded slice per call, deterministic: with the
 * same seed and data the trained values after N steps are the same bytes for every step
 * budget and thread count.
 * SM_TRAIN_FULL trains a loaded model's weights (any type in; F32 master weights
 * inside). Sessions of the model see new weights only when an optimizer step ends (when
 * every matrix of the model is F32; otherwise they keep the loaded weights).
 * SM_TRAIN_LORA trains a LoRA adapter on the frozen model (any weight type the kernels
 * read, never copied to F32): it takes one of the model's adapter slots
 * (sm_model_desc.max_adapters; rank <= max_lora_rank) and publishes into it when an
 * optimizer step ends (sm_trainer_get_adapter): sessions that apply that adapter keep
 * generating while it learns. A step that ends while a forward pass is in flight
 * publishes at the next sm_trainer_step after it.
 * The trainer and the model's sessions must be stepped from one thread. */
typedef struct sm_trainer sm_trainer;

typedef enum sm_train_mode { SM_TRAIN_FULL = 0, SM_TRAIN_LORA = 1 } sm_train_mode;

/* LoRA targets (sm_trainer_desc.lora_targets), llama.cpp's projection names. */
enum {
    SM_LORA_Q = 1 << 0,    /* attn_q */
    SM_LORA_K = 1 << 1,    /* attn_k */
    SM_LORA_V = 1 << 2,    /* attn_v */
    SM_LORA_O = 1 << 3,    /* attn_output */
    SM_LORA_GATE = 1 << 4, /* ffn_gate */
    SM_LORA_UP = 1 << 5,   /* ffn_up */
    SM_LORA_DOWN = 1 << 6, /* ffn_down */
    SM_LORA_ALL = 0x7f
};

typedef struct sm_trainer_desc {
    uint32_t struct_size;
    sm_train_mode mode;
    float lr;                /* peak learning rate, reached after the warm-up */
    float lr_min;            /* the cosine decay's floor, reached at total_steps */
    float beta1, beta2, eps; /* AdamW (bias-corrected) */
    float weight_decay;      /* decoupled, on matrices only (never on norms) */
    float grad_clip;         /* global gradient norm clip; <= 0: none */
    int32_t warmup_steps, total_steps;
    int32_t batch, seq_len; /* sequences per micro-batch, tokens per sequence (<= 512) */
    int32_t accum_steps;    /* micro-batches per optimizer step */
    uint64_t seed;          /* weights (with init_random), shuffling */
    int32_t recompute;      /* 1: activation checkpointing: keep only each layer's input and run
                               its forward again before its backward (about a third more
                               compute, the same bits; sm_trainer_info.activation_bytes shows
                               the saving) */
    int32_t init_random;    /* 1: fresh N(0, 0.02) weights (norms 1) in the model's shape */
    /* SM_TRAIN_LORA: A starts Kaiming-uniform and B at zero (the adapter starts as the
     * identity), or from lora_from's values (its targets and rank; the desc's are ignored). */
    int32_t lora_rank;       /* default 8 */
    float lora_alpha;        /* the delta is scaled by alpha / rank; default 0: alpha = rank */
    uint32_t lora_targets;   /* SM_LORA_* bits; default SM_LORA_ALL */
    int32_t lora_rslora;     /* 1: scaled by alpha / sqrt(rank) (rsLoRA) */
    sm_adapter *lora_from;   /* continue training this adapter (one of the model's); NULL: fresh */
} sm_trainer_desc;

sm_trainer_desc sm_trainer_desc_default(void);

/* Plans every byte (parameters, gradients, moments, activations) in the model's runtime
 * arena. A budget too small gives SM_ERR_BUDGET and a message with the bytes needed. */
sm_status sm_trainer_create(sm_model *model, const sm_trainer_desc *desc, sm_trainer **out);
/* The arena bytes sm_trainer_create would take for this desc (the token data not
 * included: sm_trainer_set_* adds 4 bytes per token and per sequence), to size a budget. */
sm_status sm_trainer_memory_required(sm_model *model, const sm_trainer_desc *desc, size_t *bytes);
void sm_trainer_destroy(sm_trainer *t);

typedef struct sm_trainer_info {
    int64_t n_params;
    size_t total_bytes;      /* everything the trainer took from the arena (data too) */
    size_t param_bytes;      /* parameters + gradients + both moments */
    size_t activation_bytes; /* saved activations, backward buffers, product scratch */
    size_t data_bytes;       /* the token data and its shuffle order */
    int64_t train_sequences, heldout_sequences;
    int32_t publishes; /* sessions of the model see the trained weights */
} sm_trainer_info;
sm_status sm_trainer_get_info(const sm_trainer *t, sm_trainer_info *out);
/* SM_TRAIN_LORA: the adapter the trainer publishes to (valid after the trainer is
 * destroyed, holding the last published values, until sm_adapter_unload). */
sm_status sm_trainer_get_adapter(sm_trainer *t, sm_adapter **out);

/* The data: a token stream cut into sequences of seq_len + 1 tokens (each sequence's
 * last token is the next one's first); the last heldout_fraction of the sequences are
 * held out for sm_trainer_eval, the others are drawn in a seeded shuffled order, epoch
 * after epoch. The tokens are copied into the arena (SM_ERR_BUDGET if they do not fit).
 * Resets the data cursor; call before the first step. */
sm_status sm_trainer_set_tokens(sm_trainer *t, const int32_t *tokens, size_t n, float heldout_fraction);
/* The same from UTF-8 text, tokenized with the model's tokenizer (BOS first) in pieces
 * of at most the model's max_text_bytes, cut at line ends. */
sm_status sm_trainer_set_text(sm_trainer *t, const char *utf8, size_t len, float heldout_fraction);

typedef struct sm_train_result {
    int64_t step;       /* optimizer steps completed */
    int32_t micro_step; /* micro-batch in progress */
    int32_t step_done;  /* 1: this call completed an optimizer step */
    float loss;         /* mean training loss of the last completed step */
    float lr;           /* its learning rate */
    float grad_norm;    /* its gradient norm, before clipping */
    float tok_s;        /* training tokens per second of compute so far */
    uint32_t units;     /* units of work this call ran */
    uint64_t elapsed_us;
} sm_train_result;

/* Does about budget_us of work (at least one unit: an op of a layer for one
 * micro-batch, or an optimizer slice), returning early when an optimizer step ends.
 * budget_us = 0: run to the end of the current optimizer step. */
sm_status sm_trainer_step(sm_trainer *t, uint32_t budget_us, sm_train_result *out);

/* Mean loss over the held-out sequences (max_sequences > 0: the first that many).
 * Finishes an optimizer step in progress first. */
sm_status sm_trainer_eval(sm_trainer *t, int32_t max_sequences, float *loss);

/* Checkpoint to a caller-owned buffer (buf NULL: *size gets the bytes needed): weights,
 * moments, step, shuffle order and RNG, data cursor. Finishes a step in progress first.
 * Load into a trainer created with the same model shape, desc and data: the resumed run
 * continues bit-identically. Anything else gives SM_ERR_MISMATCH. */
sm_status sm_trainer_save(sm_trainer *t, void *buf, size_t cap, size_t *size);
sm_status sm_trainer_load(sm_trainer *t, const void *buf, size_t size);

/* Writes the trained weights (what = SM_TRAINER_WEIGHTS) or the last gradient
 * (SM_TRAINER_GRADIENTS) as a GGUF file of F32 tensors with llama.cpp's names; the
 * tokenizer metadata is copied from vocab_from (a GGUF file; NULL: none). The bytes
 * depend only on the values (no timestamps). SM_TRAIN_LORA writes a GGUF LoRA adapter
 * (F32) of the adapter's values or gradients; vocab_from is not used. */
typedef enum sm_trainer_tensors { SM_TRAINER_WEIGHTS = 0, SM_TRAINER_GRADIENTS = 1 } sm_trainer_tensors;
sm_status sm_trainer_save_gguf(sm_trainer *t, sm_trainer_tensors what, const char *vocab_from, const char *path);

/* The gradient of the mean next-token loss of one sequence of n = seq_len + 1 tokens
 * (batch 1): predicting tokens[1..n-1] from tokens[0..n-2]. Only between optimizer
 * steps; the result replaces the trainer's gradient (sm_trainer_save_gguf writes it). */
sm_status sm_trainer_gradient(sm_trainer *t, const int32_t *tokens, size_t n, float *loss);

#ifdef __cplusplus
}
#endif
#endif /* SMALLMIND_H */
