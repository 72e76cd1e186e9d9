// Between the model's weights (any type, either layout, as the sessions read them) and
// the trainer's flat F32 parameters.
#pragma once
#include "model/weights.h"
#include "train/model.h"

namespace sm::train {

// Whether the model's weights match the layout's shapes.
bool weights_match(const ParamLayout &p, const Weights &w);
// Flat parameters from the model's weights (dequantized rows).
void gather_params(const ParamLayout &p, const Weights &w, float *out);
// Whether publish_params can write these weights (every matrix F32).
bool can_publish(const Weights &w);
// The model's weights from flat parameters: F32 matrices in their layout (Rows or Rows8).
// The model's weights live in its arena block (copied from the file at load), so they
// are writable; the sessions read them only between steps.
void publish_params(const ParamLayout &p, Weights &w, const float *params);

// Double-buffered publishing, so sessions never wait on a whole-model copy: tensor i of
// the flat parameters is written, in the model's layout, into alt[i] (a second buffer of
// the tensor's size), one tensor per bounded unit (rows [row0, row1) per task, row0 a
// multiple of 8: the Rows8 layout's groups); at the optimizer step's end
// swap_staged() exchanges every tensor's data pointer in the model with alt[i], in
// O(tensors). alt[] starts as the tensors' places in a buffer of ParamLayout::total()
// floats (same offsets as the flat parameters).
void init_staging(const ParamLayout &p, float *buffer, float **alt);
void stage_tensor(const ParamLayout &p, const Weights &w, const float *params, float *const *alt, int i, int row0 = 0,
                  int row1 = -1);
void swap_staged(const ParamLayout &p, Weights &w, float **alt);
// Copies the model's current tensors into alt[] and swaps them in (a trainer about to go
// gives the model back its own memory after an odd number of swaps).
void unstage(const ParamLayout &p, Weights &w, float **alt);

} // namespace sm::train
