// The CLI's own commands (demo/cli/cmd_*.cpp): int cmd_x(int argc, char **argv), argv[1]
// being its name. The benchmark commands are perf/'s (perf/perf_commands.h).
#pragma once

int cmd_generate(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_train(int argc, char **argv); // demo/cli/cmd_train.cpp
int cmd_gradients(int argc, char **argv);
int cmd_finetune(int argc, char **argv); // demo/cli/cmd_finetune.cpp
