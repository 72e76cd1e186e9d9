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
void publish_params(const ParamLayout &p, Weights &w, const float *params);

} // namespace sm::train
