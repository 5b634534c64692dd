#!/usr/bin/env python3
"""Generate reference fixtures from real PyTorch for the bitgru float GRU.

What it makes (in crates/bitgru/tests/fixtures/):

  torch_gru.safetensors      nn.GRU(5, 7, batch_first=True) as `gru` + nn.Linear(7, 4)
                             as `fc`; float32 tensors named exactly
                               gru.weight_ih_l0 [21,5]  gru.weight_hh_l0 [21,7]
                               gru.bias_ih_l0   [21]    gru.bias_hh_l0   [21]
                               fc.weight        [4,7]   fc.bias          [4]
                             PyTorch gate order along the 3H axis is (r, z, n).
  torch_gru.json             expected outputs (schema below), B=6, T=9, h0 = zeros.
  keras_gru.npz              the SAME model re-laid out as Keras GRU(reset_after=True):
                               kernel [5,21], recurrent_kernel [7,21], bias [2,21]
                               (row 0 input bias, row 1 recurrent bias),
                               dense_kernel [7,4], dense_bias [4]; float32,
                             numpy.savez (uncompressed). Keras gate order is (z, r, h).
                             Its expected outputs are torch_gru.json as well.
  torch_gru_h16.safetensors  same format, input_size=3, hidden=16, classes=5
  torch_gru_h16.json         B=4, T=20

JSON schema:
  {"torch_version": str, "input_size": int, "hidden": int, "classes": int,
   "steps": T, "batch": B,
   "inputs":        [B][T][input_size],
   "hidden_states": [B][T][hidden]   h_t after every step (nn.GRU output sequence),
   "logits":        [B][classes]     fc(h_T) }
Floats are float32 values written as Python floats (repr round-trips exactly).

PyTorch GRU equations (per step):
  r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
  n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
  h' = (1 - z) * n + z * h

Run:
  python3 scripts/make_torch_fixtures.py
with torch, numpy and safetensors installed (CPU is enough). Generated with
torch 2.15.0 (+cu132 wheel from PyPI, run on CPU), numpy 2.4.6, safetensors 0.8.0,
Python 3.11.7. Deterministic: fixed torch/numpy seeds, CPU float32.
"""

import json
import os

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "bitgru", "tests", "fixtures")

WEIGHT_SCALE = 2.0  # scale default init so gates are not all near 0.5


def build_model(input_size, hidden, classes, seed):
    torch.manual_seed(seed)
    gru = torch.nn.GRU(input_size=input_size, hidden_size=hidden, batch_first=True)
    fc = torch.nn.Linear(hidden, classes)
    with torch.no_grad():
        for p in list(gru.parameters()) + list(fc.parameters()):
            p.mul_(WEIGHT_SCALE)
    gru.eval()
    fc.eval()
    return gru, fc


def state_dict(gru, fc):
    sd = {}
    for k, v in gru.state_dict().items():
        sd["gru." + k] = v.detach().to(torch.float32).contiguous().clone()
    for k, v in fc.state_dict().items():
        sd["fc." + k] = v.detach().to(torch.float32).contiguous().clone()
    return sd


def to_list(a):
    # float32 -> Python float is exact; json writes repr (shortest round-trip).
    return np.asarray(a, dtype=np.float32).astype(np.float64).tolist()


def make_fixture(name, input_size, hidden, classes, steps, batch, seed):
    gru, fc = build_model(input_size, hidden, classes, seed)
    sd = state_dict(gru, fc)
    expected_shapes = {
        "gru.weight_ih_l0": (3 * hidden, input_size),
        "gru.weight_hh_l0": (3 * hidden, hidden),
        "gru.bias_ih_l0": (3 * hidden,),
        "gru.bias_hh_l0": (3 * hidden,),
        "fc.weight": (classes, hidden),
        "fc.bias": (classes,),
    }
    assert set(sd) == set(expected_shapes), sorted(sd)
    for k, shp in expected_shapes.items():
        assert tuple(sd[k].shape) == shp and sd[k].dtype == torch.float32, k

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, input_size)).astype(np.float32)
    with torch.no_grad():
        xt = torch.from_numpy(x)
        h0 = torch.zeros(1, batch, hidden)
        out, h_n = gru(xt, h0)  # out: [B, T, H]
        logits = fc(out[:, -1, :])  # [B, classes]
        assert torch.equal(out[:, -1, :], h_n[0])

    save_file(sd, os.path.join(OUT, name + ".safetensors"))
    doc = {
        "torch_version": torch.__version__,
        "input_size": input_size,
        "hidden": hidden,
        "classes": classes,
        "steps": steps,
        "batch": batch,
        "inputs": to_list(x),
        "hidden_states": to_list(out.numpy()),
        "logits": to_list(logits.numpy()),
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(doc, f)
        f.write("\n")
    return sd, x, out.numpy(), logits.numpy()


def torch_to_keras(sd, hidden):
    """Re-order PyTorch (r, z, n) GRU weights into Keras GRU(reset_after=True) layout.

    PyTorch stacks gates along rows of weight_[ih|hh] [3H, in] as (r, z, n).
    Keras stacks gates along columns of kernel [in, 3H] as (z, r, h), transposed:
        keras[:, 0:H]   = torch[H:2H].T    (z)
        keras[:, H:2H]  = torch[0:H].T     (r)
        keras[:, 2H:3H] = torch[2H:3H].T   (n == Keras "h" candidate)
    Biases use the same gate permutation: bias[0] from bias_ih, bias[1] from bias_hh.
    Keras reset_after=True applies r after the recurrent matmul + recurrent bias,
    which is exactly PyTorch's n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
    Dense: dense_kernel = fc.weight.T [H, C], dense_bias = fc.bias.
    """
    H = hidden
    perm = np.concatenate([np.arange(H, 2 * H), np.arange(0, H), np.arange(2 * H, 3 * H)])
    w_ih = sd["gru.weight_ih_l0"].numpy()
    w_hh = sd["gru.weight_hh_l0"].numpy()
    b_ih = sd["gru.bias_ih_l0"].numpy()
    b_hh = sd["gru.bias_hh_l0"].numpy()
    return {
        "kernel": np.ascontiguousarray(w_ih[perm].T, dtype=np.float32),
        "recurrent_kernel": np.ascontiguousarray(w_hh[perm].T, dtype=np.float32),
        "bias": np.ascontiguousarray(np.stack([b_ih[perm], b_hh[perm]]), dtype=np.float32),
        "dense_kernel": np.ascontiguousarray(sd["fc.weight"].numpy().T, dtype=np.float32),
        "dense_bias": np.ascontiguousarray(sd["fc.bias"].numpy(), dtype=np.float32),
    }


def keras_gru_numpy(k, x):
    """Keras GRU(reset_after=True) forward in float64 numpy; returns ([B,T,H], [B,C])."""
    K = k["kernel"].astype(np.float64)
    R = k["recurrent_kernel"].astype(np.float64)
    bi, br = k["bias"].astype(np.float64)
    H = R.shape[0]
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))
    B, T, _ = x.shape
    h = np.zeros((B, H))
    hs = np.zeros((B, T, H))
    for t in range(T):
        xi = x[:, t, :].astype(np.float64) @ K + bi  # [B, 3H]
        hr = h @ R + br  # [B, 3H]
        z = sig(xi[:, 0:H] + hr[:, 0:H])
        r = sig(xi[:, H:2 * H] + hr[:, H:2 * H])
        hh = np.tanh(xi[:, 2 * H:] + r * hr[:, 2 * H:])
        h = z * h + (1.0 - z) * hh
        hs[:, t, :] = h
    logits = h @ k["dense_kernel"].astype(np.float64) + k["dense_bias"].astype(np.float64)
    return hs, logits


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)

    sd, x, hs, logits = make_fixture("torch_gru", 5, 7, 4, steps=9, batch=6, seed=1234)

    keras = torch_to_keras(sd, hidden=7)
    expected_shapes = {
        "kernel": (5, 21),
        "recurrent_kernel": (7, 21),
        "bias": (2, 21),
        "dense_kernel": (7, 4),
        "dense_bias": (4,),
    }
    for n, shp in expected_shapes.items():
        assert keras[n].shape == shp and keras[n].dtype == np.float32, n
    k_hs, k_logits = keras_gru_numpy(keras, x)
    err_h = np.abs(k_hs - hs).max()
    err_l = np.abs(k_logits - logits).max()
    assert err_h < 1e-5, err_h
    assert err_l < 1e-5, err_l
    np.savez(os.path.join(OUT, "keras_gru.npz"), **keras)
    print(f"keras npz vs torch: max|dh|={err_h:.3g} max|dlogits|={err_l:.3g}")

    make_fixture("torch_gru_h16", 3, 16, 5, steps=20, batch=4, seed=5678)

    for f in sorted(os.listdir(OUT)):
        print(f"{f}: {os.path.getsize(os.path.join(OUT, f))} bytes")


if __name__ == "__main__":
    main()
