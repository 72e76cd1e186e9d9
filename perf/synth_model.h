#pragma once
// smallmind synth-model --preset tiny|24m|134m|smol --type f32|f16|q8_0|q4_0 [--seed S] --out PATH
int cmd_synth_model(int argc, char **argv);
