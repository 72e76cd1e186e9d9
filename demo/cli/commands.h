// Every smallmind command: int cmd_x(int argc, char **argv), argv[1] being its name.
#pragma once

int cmd_generate(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
