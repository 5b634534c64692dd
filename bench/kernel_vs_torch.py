#!/usr/bin/env python3
"""Inference throughput of bitgru's integer kernels against PyTorch on CPU, same shapes, one run.

Not part of the tests. Needs torch (PyPI) and a built CLI:

    cargo build --release -p bitgru-cli
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
    /tmp/torchenv/bin/python bench/kernel_vs_torch.py [--batch 256,1] [--shapes kws10,row-mnist]

For every shape and batch size, interleaved (PyTorch float, PyTorch qint8, bitgru, then the next
case), it measures sequences per second of:
  - PyTorch float `nn.GRU` + `nn.Linear` head on the last state, `torch.inference_mode`, 1 thread;
  - PyTorch dynamic int8 (`torch.ao.quantization.quantize_dynamic` of the GRU and the head), 1 thread;
  - bitgru (`bitgru bench --json`, genome all-8): the scalar reference kernel (1 thread), the batch
    kernel of every variant available here (1 thread), and the fastest variant on all threads;
and prints one table with the ratios bitgru ÷ PyTorch. `--json FILE` also writes the raw numbers.
"""
import argparse, json, os, subprocess, time

SHAPES = {  # name: (steps, input, hidden, classes)
    "kws10": (49, 10, 64, 12),
    "row-mnist": (28, 28, 128, 10),
    "pixel-mnist": (784, 1, 64, 10),
    "h32": (49, 10, 32, 12),
    "h128": (49, 10, 128, 12),
    "h256": (49, 10, 256, 12),
}


def timed(fn, min_s):
    """Calls per second of fn: one warm-up call, then repeat until min_s has passed."""
    fn()
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        e = time.perf_counter() - t0
        if e >= min_s:
            return n / e


def torch_rates(steps, inp, hidden, classes, batch, min_s):
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = torch.nn.GRU(inp, hidden, batch_first=True)
            self.fc = torch.nn.Linear(hidden, classes)

        def forward(self, x):
            out, _ = self.gru(x)
            return self.fc(out[:, -1])

    net = Net().eval()
    qnet = torch.ao.quantization.quantize_dynamic(net, {torch.nn.GRU, torch.nn.Linear}, dtype=torch.qint8)
    x = torch.randn(batch, steps, inp)
    rates = {}
    with torch.inference_mode():
        for name, m in (("torch_float", net), ("torch_qint8", qnet)):
            rates[name] = batch * timed(lambda: m(x), min_s)
    return rates, torch.__version__


def bitgru_rates(cli, steps, inp, hidden, classes, batch, min_ms, threads):
    cmd = [cli, "bench", "--hidden", str(hidden), "--steps", str(steps), "--input", str(inp),
           "--classes", str(classes), "--batch", str(batch), "--genome", "88888888888888888",
           "--min-time-ms", str(min_ms), "--json"]
    if threads:
        cmd += ["--threads", str(threads)]
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    r = out["results"][0]
    rates = {"reference": r["reference_seq_per_s"]}
    for v in r["batch_1thread"]:
        rates["batch_" + v["variant"]] = v["seq_per_s"]
    rates["batch_all_threads"] = r["batch_all_threads"]["seq_per_s"]
    return rates, r, out["machine"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="target/release/bitgru")
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--batch", default="256,1", help="batch sizes, comma separated")
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds per measurement")
    ap.add_argument("--threads", type=int, default=0, help="bitgru all-threads case [default: all]")
    ap.add_argument("--json", help="write the raw numbers to this file")
    a = ap.parse_args()

    rows, machine, tv = [], None, None
    for name in a.shapes.split(","):
        steps, inp, hidden, classes = SHAPES[name]
        for batch in [int(b) for b in a.batch.split(",")]:
            t, tv = torch_rates(steps, inp, hidden, classes, batch, a.min_time)
            b, raw, machine = bitgru_rates(a.cli, steps, inp, hidden, classes, batch,
                                           int(a.min_time * 1000), a.threads)
            rows.append(dict(shape=name, steps=steps, input=inp, hidden=hidden, classes=classes,
                             batch=batch, **t, **b, stream_step_us=raw["stream_step_us"],
                             macs_per_seq=raw["macs_per_seq"]))
            print(f"measured {name} batch {batch}", flush=True)

    best = "batch_" + machine["best_variant"]
    load = os.getloadavg()
    print(f"\ntorch {tv}; bitgru best variant {machine['best_variant']}, "
          f"{machine['threads']} threads for 'all'; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("sequences per second; ratios = bitgru ÷ PyTorch (PyTorch and bitgru '1 thr' on one thread)\n")
    variants = [k for k in rows[0] if k.startswith("batch_") and k != "batch_all_threads"]
    head = ["shape", "B", "torch f32", "torch qint8", "reference"] + [v[6:] + " 1 thr" for v in variants] \
        + ["all thr", "best÷f32", "best÷qint8", "all÷f32", "ref÷f32", "stream µs", "GMAC/s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        f32, q8 = r["torch_float"], r["torch_qint8"]
        cells = [r["shape"], str(r["batch"]), f"{f32:.0f}", f"{q8:.0f}", f"{r['reference']:.0f}"] \
            + [f"{r[v]:.0f}" for v in variants] \
            + [f"{r['batch_all_threads']:.0f}", f"{r[best] / f32:.2f}×", f"{r[best] / q8:.2f}×",
               f"{r['batch_all_threads'] / f32:.2f}×", f"{r['reference'] / f32:.2f}×",
               f"{r['stream_step_us']:.2f}", f"{r[best] * r['macs_per_seq'] / 1e9:.1f}"]
        print("| " + " | ".join(cells) + " |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(torch=tv, machine=machine, load=load, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
