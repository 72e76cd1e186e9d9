// smallmind: the command-line face of the runtime (and of its benchmarks in perf/). A
// command is one line in kCommands, declared in commands.h (demo/cli) or perf_commands.h.
#include "commands.h"

#include "perf/perf_commands.h"

#include <cstdio>
#include <cstring>

namespace {

struct Command {
    const char *name;
    int (*run)(int, char **);
    const char *help;
};

const Command kCommands[] = {
    {"generate", cmd_generate,
     "--model PATH [--prompt TEXT | --tokens 1,2,3] [-n N] [--temp T] [--top-k K] [--top-p P]\n"
     "            [--min-p P] [--seed S] [--ids] [--threads N] [--step-budget-us B] [--ctx C] [--sinks S]\n"
     "            [--stop TEXT]... [--repeat-penalty R] [--isa auto|scalar|avx2|avx512] [--ignore-eos]"},
    {"info", cmd_info, "--model PATH: architecture, hyperparameters, tensor types, planned memory"},
    {"logits", cmd_logits, "--model PATH --tokens 1,2,3 --out FILE: every position's logits as float32 rows"},
    {"convert", cmd_convert, "--llama2c CHECKPOINT --tokenizer TOKENIZER.bin --out MODEL.gguf"},
    {"tokenize", cmd_tokenize, "--model PATH (--text T | --file F) [--ids] [--bos] [--special]"},
    {"detokenize", cmd_detokenize, "--model PATH --tokens 1,2,3"},
    {"bench", cmd_bench, "--model PATH [--threads N] [--pp 128,512] [--tg 128] [--reps R] [--json]: prefill / decode tok/s"},
    {"frames", cmd_frames,
     "--model PATH [--budget-us 2000] [--frames N] [--threads T] [--sessions K] [--no-sleep] [--evict-mb MB] [--json]: 60 FPS "
     "loop"},
    {"perplexity", cmd_perplexity, "--model PATH (--file F | --tokens-file F | --generate N) [--ctx C] [--sinks S] [--skip N]"},
    {"bench-gemm", cmd_bench_gemm,
     "[--isa I] [--threads N] [--types f32,q8_0...] [--m 1,64] [--no-blas] [--json]: GEMM GFLOP/s vs OpenBLAS"},
    {"bench-gemm-train", cmd_bench_gemm_train,
     "[--dim 288 --hidden 768 --vocab-size 512 --rows 256] [--threads N] [--no-blas] [--json]: training products vs OpenBLAS"},
    {"machine", cmd_machine,
     "[--threads N] [--jitter-s S] [--json]: this machine's FMA peak, read bandwidths (L1..DRAM), timing jitter"},
    {"bench-tokenizer", cmd_bench_tokenizer, "[--vocab PATH]... [--file TEXT] [--reps R]: encode / decode MB/s"},
    {"train", cmd_train,
     "--data TEXT (--model M | --dim D --hidden H --layers L --heads NH [--kv-heads K] --vocab V.gguf|bytes) --steps N --out "
     "OUT.gguf\n"
     "            [--batch B] [--seq T] [--lr LR] [--warmup W] [--accum K] [--seed S] [--step-budget-us U] [--heldout F]\n"
     "            [--checkpoint FILE --checkpoint-every N] [--resume FILE] [--plot FILE.png] [--recompute] [--json]"},
    {"finetune", cmd_finetune,
     "--model M --data TEXT --lora-rank R [--lora-alpha A] [--lora-targets q,k,v,o,gate,up,down] [--rslora] --steps N\n"
     "            [--batch B] [--seq T] [--lr LR] [--seed S] [--step-budget-us U] [--from A.gguf] [--type f32|f16|q8_0]\n"
     "            [--json] --out ADAPTER.gguf: train a LoRA adapter on the frozen model"},
    {"gradients", cmd_gradients, "--model M --ids 1,2,3 --out G.gguf: mean next-token loss and its gradient per tensor"},
    {"bench-train", cmd_bench_train,
     "[--dim 288 --hidden 768 --layers 6 --heads 6 --vocab-size 512 --batch 4 --seq 64] [--threads N]\n"
     "            [--frame-budget-us U] [--recompute] [--model M --lora-rank R [--lora-targets q,k,...]] [--json]:\n"
     "            training tokens/s, GFLOP/s, allocations"},
    {"export", cmd_export, "--model PATH --lora A.gguf[:SCALE]... --out MERGED.gguf [--type f32|f16|q8_0|q4_0]: merge adapters"},
    {"synth-adapter", cmd_synth_adapter,
     "--model PATH --rank R [--alpha A] [--targets q,k,v,o,gate,up,down] [--b-std X] [--seed S] --out A.gguf"},
    {"synth-model", cmd_synth_model, "--preset tiny|tiny-tied|24m|134m|smol --type f32|f16|q8_0|q4_0 [--seed S] --out PATH"},
};

int help() {
    printf("usage: smallmind COMMAND [options]   (--model defaults to assets/stories260K.gguf)\n\n");
    for (const Command &c : kCommands) printf("  %-16s %s\n", c.name, c.help);
    printf("\nCommon options: --threads N (total, caller included), --isa, --budget-mb M, --ctx C, --sinks S,\n"
           "--batch B, --sessions K, --kv-type f32|f16, --tokenizer TOKENIZER.bin (llama2.c checkpoints),\n"
           "--lora A.gguf[:SCALE] (repeatable: LoRA adapters applied together, unmerged),\n"
           "--config FILE.toml "
           "(defaults for any flag; see demo/cli/example.toml)\n");
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return help();
    for (const Command &c : kCommands)
        if (!strcmp(argv[1], c.name)) return c.run(argc, argv);
    fprintf(stderr, "error: unknown command '%s' (smallmind help lists them)\n", argv[1]);
    return 2;
}
