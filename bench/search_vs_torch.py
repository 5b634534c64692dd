#!/usr/bin/env python3
"""Fitness evaluations per second: bitgru's integer kernel against a PyTorch fake-quant
implementation of the same 17 quantization points, on the same genomes and the same sequences,
measured in one run.

Not part of the tests. Needs torch (PyPI) and a release CLI:

    cargo build --release -p bitgru-cli
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
    /tmp/torchenv/bin/python bench/search_vs_torch.py [--data ../shared/data] [--genomes 32]

For every task it runs `bitgru bench-search` (which builds the search's fitness subset, writes it
with --dump-inputs and times --genomes seeded random genomes on 1 thread and on all threads, cache
off), then evaluates the same genomes on the same sequences with PyTorch on one thread: per genome
it derives the scales from the bundle's calibration exactly as `QuantGru::prepare` does, fake-
quantizes the weights, and runs the GRU over the whole subset as one batch with quantize ->
dequantize (round half away from zero, saturation) at the 17 operators. It prints one table:
genomes/s of both, the ratio, and the largest accuracy difference between the two (expected: a
fraction of a point; fake-quant in float32 differs from the integer kernel only near rounding
ties).
"""
import argparse, json, os, struct, subprocess, sys, time

TASKS = [  # task, model, default fitness subset of `bitgru search`
    ("kws10", "assets/models/kws10.safetensors"),
    ("kws4", "assets/models/kws4.safetensors"),
    ("row-mnist", "assets/models/row-mnist.safetensors"),
    ("pixel-mnist", "assets/models/pixel-mnist.safetensors"),
]
GENES = ["lin_ir", "lin_iz", "lin_in", "lin_hr", "lin_hz", "lin_hn", "add_r", "add_z", "add_n",
         "sub_z", "add_h", "mul_rh", "mul_zn", "mul_zh", "sig_r", "sig_z", "tanh_n"]
# Genes whose output range is calibrated (the others have fixed ranges).
CALIBRATED = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13]


def read_bundle(path):
    """The float tensors and the bitgru.bundle metadata of a safetensors bundle."""
    import numpy as np
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = json.loads(header.pop("__metadata__")["bitgru.bundle"])
    base = 8 + n
    t = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        t[name] = np.frombuffer(raw[base + a:base + b], dtype="<f4").reshape(info["shape"])
    return t, meta["calibration"]


def qmax_s(b):
    return (1 << (b - 1)) - 1


def qmax_u(b):
    return (1 << b) - 1


class FakeQuantGru:
    def __init__(self, tensors, calib, torch):
        self.torch = torch
        self.t = {k: torch.tensor(v.copy(), dtype=torch.float64) for k, v in tensors.items()}
        self.calib = calib
        self.h = self.t["gru.weight_hh_l0"].shape[1]
        self.in_scales = torch.tensor(calib["input_scales"], dtype=torch.float64)

    def rnd(self, x):  # round half away from zero
        return self.torch.sign(x) * self.torch.floor(self.torch.abs(x) + 0.5)

    def qs(self, v, s, b):  # fake-quant, signed
        q = qmax_s(b)
        return self.torch.clamp(self.rnd(v / s), -q - 1, q) * s

    def qu(self, v, s, b):  # fake-quant, unsigned
        return self.torch.clamp(self.rnd(v / s), 0, qmax_u(b)) * s

    def quantize_input(self, x):
        """Raw features [N, T, I] -> dequantized 8-bit inputs (what the integer kernel sees)."""
        s = self.in_scales.to(x.dtype)
        return self.torch.clamp(self.rnd(x / s), -128, 127) * s

    def prepare(self, g, dtype):
        """Per-genome work, as QuantGru::prepare: scales, fake-quantized weights and biases."""
        torch, c, H = self.torch, self.calib, self.h
        sc = [0.0] * 17
        for k in CALIBRATED:
            sc[k] = c["act_ranges"][k][g[k] - 2] / qmax_s(g[k])
        sc[14], sc[15], sc[9] = 1 / qmax_u(g[14]), 1 / qmax_u(g[15]), 1 / qmax_u(g[9])
        sc[16] = 1 / qmax_s(g[16])
        s_h = sc[10]
        w_ih, w_hh = self.t["gru.weight_ih_l0"], self.t["gru.weight_hh_l0"]
        b_ih, b_hh = self.t["gru.bias_ih_l0"], self.t["gru.bias_hh_l0"]
        W, B = [], []
        for k in range(6):
            gate, b = k % 3, g[k]
            if k < 3:
                w = w_ih[gate * H:(gate + 1) * H]  # the kernel's inputs are dequantized codes
                bias, in_scale = b_ih[gate * H:(gate + 1) * H], 1.0
            else:
                w = w_hh[gate * H:(gate + 1) * H]
                bias, in_scale = b_hh[gate * H:(gate + 1) * H], s_h
            ws = c["weight_ranges"][k][b - 2] / qmax_s(b)
            if k < 3:  # the range is that of the input-scale-folded weights
                folded = w * self.in_scales
                wq = torch.clamp(self.rnd(folded / ws), -qmax_s(b) - 1, qmax_s(b)) * ws / self.in_scales
            else:
                wq = torch.clamp(self.rnd(w / ws), -qmax_s(b) - 1, qmax_s(b)) * ws
            bs = ws * in_scale if k >= 3 else ws
            bq = torch.clamp(self.rnd(bias / bs), -(1 << 30), 1 << 30) * bs
            W.append(wq.to(dtype))
            B.append(bq.to(dtype))
        hs = c["head_range"] / 127
        wfc = torch.clamp(self.rnd(self.t["fc.weight"] / hs), -128, 127) * hs
        bfc = self.rnd(self.t["fc.bias"] / (hs * s_h)) * hs * s_h
        return sc, W, B, wfc.to(dtype), bfc.to(dtype)

    def predict(self, g, xq):
        """Predicted classes of dequantized inputs xq [N, T, I] at genome g."""
        torch = self.torch
        sc, W, B, wfc, bfc = self.prepare(g, xq.dtype)
        qs, qu = self.qs, self.qu
        N, T, _ = xq.shape
        h = torch.zeros(N, self.h, dtype=xq.dtype)
        # The input linears of all steps at once (they do not depend on h).
        xin = [qs(xq @ W[k].T + B[k], sc[k], g[k]) for k in range(3)]
        for t in range(T):
            hr = qs(h @ W[3].T + B[3], sc[3], g[3])
            hz = qs(h @ W[4].T + B[4], sc[4], g[4])
            hn = qs(h @ W[5].T + B[5], sc[5], g[5])
            ar = qs(xin[0][:, t] + hr, sc[6], g[6])
            az = qs(xin[1][:, t] + hz, sc[7], g[7])
            r = qu(torch.sigmoid(ar), sc[14], g[14])
            z = qu(torch.sigmoid(az), sc[15], g[15])
            mrh = qs(r * hn, sc[11], g[11])
            an = qs(xin[2][:, t] + mrh, sc[8], g[8])
            n = qs(torch.tanh(an), sc[16], g[16])
            sz = qu(1 - z, sc[9], g[9])
            mzn = qs(sz * n, sc[12], g[12])
            mzh = qs(z * h, sc[13], g[13])
            h = qs(mzn + mzh, sc[10], g[10])
        return (h @ wfc.T + bfc).argmax(dim=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--bitgru", default="target/release/bitgru")
    ap.add_argument("--genomes", type=int, default=32)
    ap.add_argument("--tasks", default=",".join(t for t, _ in TASKS))
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    a = ap.parse_args()
    import numpy as np
    import torch
    torch.set_num_threads(1)
    dtype = getattr(torch, a.dtype)
    rows = []
    for task, model in TASKS:
        if task not in a.tasks.split(","):
            continue
        dump = f"/tmp/bitgru-bench-{task}.json"
        out = subprocess.run([a.bitgru, "bench-search", "--task", task, "--data", a.data,
                              "--model", model, "--genomes", str(a.genomes), "--dump-inputs", dump,
                              "--json"], check=True, capture_output=True, text=True).stdout
        rb = json.loads(out)
        inp = json.load(open(dump))
        steps = inp["steps"]
        x = torch.tensor(np.array(inp["sequences"], dtype=np.float32)).reshape(len(inp["labels"]), steps, -1)
        y = torch.tensor(inp["labels"])
        fq = FakeQuantGru(*read_bundle(model), torch)
        xq = fq.quantize_input(x.to(torch.float64)).to(dtype)
        genomes = [[int(ch) for ch in g] for g in rb["genomes"]]
        fq.predict(genomes[0], xq)  # warm-up
        t0 = time.perf_counter()
        accs = [(fq.predict(g, xq) == y).double().mean().item() for g in genomes]
        secs = time.perf_counter() - t0
        torch_rate = len(genomes) / secs
        diff = max(abs(p - q) for p, q in zip(accs, rb["accuracy"]))
        rows.append((task, rb["dims"]["hidden"], steps, rb["subset"], torch_rate,
                     rb["threads_1"]["evals_per_s"], rb["threads_all"]["evals_per_s"],
                     rb["threads_all"]["threads"], diff))
    print(f"torch {torch.__version__}, fake-quant in {a.dtype}, 1 thread; {a.genomes} random genomes per task, cache off\n")
    print("| task | H | T | sequences | PyTorch fake-quant genomes/s | bitgru 1 thread evals/s | ratio | bitgru all threads evals/s | max accuracy difference |")
    print("|---|---|---|---|---|---|---|---|---|")
    for task, h, t, n, tr, b1, bn, nt, d in rows:
        print(f"| {task} | {h} | {t} | {n} | {tr:.1f} | {b1:.1f} | {b1 / tr:.1f}x | {bn:.1f} ({nt} threads) | {100 * d:.2f} pp |")


if __name__ == "__main__":
    main()
