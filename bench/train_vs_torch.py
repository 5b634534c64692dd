#!/usr/bin/env python3
"""Training throughput of bitgru's Rust trainer against PyTorch on CPU, same model and batch, one run.

Not part of the tests. Needs torch (PyPI) and a built CLI:

    cargo build --release -p bitgru-cli
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
    /tmp/torchenv/bin/python bench/train_vs_torch.py [--threads 2] [--batches 20]

For every shape it times `--batches` training steps (forward, BPTT, clip 1.0, Adam) of a 1-layer
GRU + linear head on random data with both backends on the same number of threads, and prints
samples/s and the ratio Rust/PyTorch (> 1: Rust is faster). Shapes: the four tasks' models.
"""
import argparse, json, subprocess, time, os

SHAPES = [  # name, input, hidden, classes, steps
    ("kws (MFCC 49x10, H=64)", 10, 64, 12, 49),
    ("row-mnist (28x28, H=128)", 28, 128, 10, 28),
    ("pixel-mnist (784x1, H=64)", 1, 64, 10, 784),
]


def torch_rate(i, h, c, t, batch, batches, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    gru = torch.nn.GRU(i, h, batch_first=True)
    fc = torch.nn.Linear(h, c)
    params = list(gru.parameters()) + list(fc.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    x = torch.randn(batch, t, i)
    y = torch.randint(0, c, (batch,))
    def step():
        opt.zero_grad()
        out, _ = gru(x)
        loss = torch.nn.functional.cross_entropy(fc(out[:, -1]), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(batches):
        step()
    return batch * batches / (time.perf_counter() - t0), torch.__version__


def rust_rate(cli, i, h, c, t, batch, batches, threads):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run([cli, "bench-train", "--input", str(i), "--hidden", str(h), "--classes", str(c),
                          "--steps", str(t), "--batch", str(batch), "--batches", str(batches), "--json"],
                         check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)["samples_per_s"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="target/release/bitgru")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--batches", type=int, default=20)
    a = ap.parse_args()
    print(f"threads={a.threads} batch={a.batch} batches={a.batches}")
    print(f"{'shape':32} {'torch samples/s':>16} {'rust samples/s':>15} {'rust/torch':>10}")
    for name, i, h, c, t in SHAPES:
        b = a.batches if t < 100 else max(2, a.batches // 5)
        tr, ver = torch_rate(i, h, c, t, a.batch, b, a.threads)
        rr = rust_rate(a.cli, i, h, c, t, a.batch, b, a.threads)
        print(f"{name:32} {tr:16.1f} {rr:15.1f} {rr / tr:10.2f}")
    print(f"torch {ver}")


if __name__ == "__main__":
    main()
