#pragma once
// smallmind perplexity --model PATH (--file TEXT | --tokens-file IDS | --generate N) [--ctx C] [--sinks S]
int cmd_perplexity(int argc, char **argv);
