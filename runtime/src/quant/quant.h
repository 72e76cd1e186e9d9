// Reference quantization and dequantization of GGUF rows.
//
// Q8_0 and Q4_0 quantize exactly as ggml's quantize_row_q8_0_ref / quantize_row_q4_0_ref,
// so a file written from the same floats equals llama-quantize's. Q4_K and Q6_K use a
// simple (not ggml's search-based) quantizer: valid blocks, for tests and synthetic
// models. Every dequantize_row is bit-exact with ggml's dequantize_row_*.
#pragma once
#include "format/tensor_type.h"

#include <cstdint>

namespace sm::quant {

void quantize_row_q8_0(const float *x, void *dst, int64_t n);
void quantize_row_q4_0(const float *x, void *dst, int64_t n);
void quantize_row_q4_K(const float *x, void *dst, int64_t n);
void quantize_row_q6_K(const float *x, void *dst, int64_t n);

void dequantize_row_q8_0(const void *src, float *y, int64_t n);
void dequantize_row_q4_0(const void *src, float *y, int64_t n);
void dequantize_row_q4_K(const void *src, float *y, int64_t n);
void dequantize_row_q6_K(const void *src, float *y, int64_t n);

// Whether quantize_rows / dequantize_row handle type t (F32, F16, BF16, Q8_0, Q4_0,
// Q4_K, Q6_K).
bool type_convertible(TensorType t);

// rows x cols floats into rows rows of row_bytes(t, cols) bytes each, back to back.
// False if t is not convertible or cols is not a whole number of blocks.
bool quantize_rows(TensorType t, const float *src, void *dst, int64_t rows, int64_t cols);

// One row of n elements to floats. False if t is not convertible or n not whole blocks.
bool dequantize_row(TensorType t, const void *src, float *dst, int64_t n);

// llama2.c's int8 format (runq.c): n int8 values, then one f32 scale per `group` values
// (n / group of them, n a multiple of group). y[i] = q[i] * scale[i / group].
void dequantize_int8_groups(const void *src, float *y, int64_t n, uint32_t group);

// Copies rows x cols of F32, F16, BF16, Q8_0 or Q4_0 from GGUF's row layout into kern::Layout::Rows8
// (kernels/kernels.h); the same number of bytes. false for other types, rows % 8 != 0 or
// (quantized) cols not whole blocks.
bool interleave_rows8(TensorType t, const void *src, void *dst, int64_t rows, int64_t cols);

// Row r (cols elements) of a matrix in kern::Layout::Rows8, to floats: the values
// dequantize_row gives for the same row in the plain layout. false where
// interleave_rows8 would be.
bool rows8_row(TensorType t, const void *data, int64_t r, int64_t cols, float *dst);

} // namespace sm::quant
