// The protocol every layer of src/tandem/model follows: HugeCTR's Layer
// (fprop(is_train) / bprop over tensors allocated once, before training),
// written down so that a new layer knows what is expected of it and a
// reviewer what to check. It is a protocol, not a base class: the layers keep
// their own method names (listed below), and there is no virtual call on the
// training path.
//
// A module
//
//  1. Allocates everything in its constructor, sized by its configuration
//     and the largest batch it will see (max_batch): weights, their
//     gradients, its output and output-gradient buffers, and any index or
//     scratch arrays a step needs. Its input is a buffer the caller owns (a
//     pointer bound at construction, as DenseLayer and Mlp do, or passed per
//     call, as MixtureOfExperts and FeatureTower take it); so is the input's
//     gradient. After construction a training step allocates nothing.
//
//  2. fprop (is_train = true): for rows [0, n), n <= max_batch, reads its
//     input and its weights, writes its output buffer, and keeps what bprop
//     needs (activations) in its own buffers.
//     Inference (is_train = false) is a separate const entry point on caller
//     buffers (forward / predict / compute): it reads only the weights, so
//     many threads may run it at once with their own scratch, and it gives
//     the same floats as the training pass.
//
//  3. bprop: reads the gradient the caller wrote into the module's output
//     gradient buffer, overwrites (never accumulates) its parameter
//     gradients, and writes dL/dinput into the caller's input-gradient buffer
//     when there is one. Row-slice variants (fprop_rows / bprop_rows) let
//     workers each take part of a batch and have their partial gradients
//     summed in worker order, so results are deterministic per thread count.
//
//  4. parameters(): its trainable tensors with their gradient buffers, by
//     stable names ("<prefix>.<part>.kernel"), in a fixed order; optimizers,
//     checkpoints and model files walk these lists and need to know nothing
//     else about the layer. Embedding tables are listed apart, as sparse
//     parameters with a RowGradient (embedding_table.h).
//
//  5. Memory, declared before anything is built (footprint.h):
//       static Footprint footprint(<its configuration>, max_batch)
//     what its constructor will allocate, computed from the configuration
//     alone, and
//       Footprint allocated() const
//     what the constructed object holds. The two are equal (a test checks
//     each layer, tests/model/model_plan_test.cc), and plan_model
//     (model_plan.h) adds up the footprints, so a memory plan is the layers'
//     own arithmetic rather than a copy of it.
//
// How the existing layers spell the protocol (no renames: they are in use):
//
//   layer              fprop (train)          inference           bprop
//   DenseLayer         fprop(n), fprop_rows   forward             bprop(n), bprop_rows
//   Mlp                fprop(n), fprop_rows   predict             bprop(n), bprop_rows
//   MixtureOfExperts   forward(x, n)          predict             backward(x, n, dx)
//   FeatureTower       forward(rows, ts, n)   compute             backward(dout, n)
//   EmbeddingTable     gather                 gather              RowGradient::assign
//   MultiTaskModel     compute_gradients (fprop + bprop of a step)  / predict_ratings,
//                      user_vectors, item_vectors
//
// The losses (retrieval_softmax_loss.h, ranking_loss.h, mse_loss.h) and the
// tasks over them (task.h) follow rules 1 and 3 with a fused
// forward_backward, and declare their footprint like the layers.
#pragma once

#include <concepts>

#include "tandem/model/footprint.h"

namespace tandem {

// The part of the protocol that is checked at compile time: rule 5's
// allocated(). (The static footprint's arguments differ per layer, so each
// layer's equality with it is checked by test rather than by the concept.)
template <class M>
concept DeclaresFootprint = requires(const M& m) {
  { m.allocated() } -> std::same_as<Footprint>;
};

}  // namespace tandem
