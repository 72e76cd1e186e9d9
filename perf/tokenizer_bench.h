// `smallmind bench-tokenizer`: encode and decode throughput (MB/s of text, median of
// repetitions) of SmallMind's tokenizers on ~1 MB of text, for each vocabulary given.
#pragma once

int cmd_bench_tokenizer(int argc, char **argv);
