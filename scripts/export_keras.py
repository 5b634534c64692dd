#!/usr/bin/env python3
"""Export a Keras GRU classifier to the .npz file bitgru reads.

bitgru reads one keras.layers.GRU(reset_after=True) (the Keras 2/3 default; reset_after=False is
a different cell and is refused) followed by one Dense head on the last hidden state
(return_sequences=False). Stacked or Bidirectional GRUs are not supported.

The npz holds exactly five float32 arrays (numpy.savez, uncompressed):
    kernel [input, 3H], recurrent_kernel [H, 3H], bias [2, 3H]   (the GRU, Keras gate order z, r, h)
    dense_kernel [H, classes], dense_bias [classes]              (the head)
bitgru reorders the gates to PyTorch's (r, z, n) when reading.

Use from your own code:

    from export_keras import export
    export(model, "model.npz")

Needs keras (any backend) and numpy. Not run by the test suite (keras is not installed there);
the layout it writes is the one of crates/bitgru/tests/fixtures/keras_gru.npz, which
scripts/make_torch_fixtures.py writes from a PyTorch model and tests/torch_reference.rs checks
against PyTorch's outputs.
"""
import sys

import numpy as np


def export(model, path):
    import keras

    grus = [l for l in model.layers if isinstance(l, keras.layers.GRU)]
    if any(isinstance(l, keras.layers.Bidirectional) for l in model.layers):
        raise ValueError("bidirectional GRUs are not supported by bitgru")
    if len(grus) != 1:
        raise ValueError(f"expected exactly one GRU layer, found {len(grus)} (stacked GRUs are not supported)")
    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]
    if len(dense) != 1:
        raise ValueError(f"expected exactly one Dense head, found {len(dense)}")
    gru, head = grus[0], dense[0]
    if not gru.reset_after:
        raise ValueError("GRU(reset_after=False) is a different cell; bitgru reads reset_after=True")
    if gru.return_sequences:
        raise ValueError("the GRU must return its last state only (return_sequences=False)")
    kernel, recurrent_kernel, bias = gru.get_weights()
    dense_kernel, dense_bias = head.get_weights()
    arrays = dict(kernel=kernel, recurrent_kernel=recurrent_kernel, bias=bias,
                  dense_kernel=dense_kernel, dense_bias=dense_bias)
    np.savez(path, **{k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()})


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: export_keras.py MODEL.keras OUT.npz")
    import keras

    export(keras.saving.load_model(sys.argv[1]), sys.argv[2])
