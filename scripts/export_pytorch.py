#!/usr/bin/env python3
"""Export a PyTorch GRU classifier to the safetensors file bitgru reads.

bitgru reads one single-layer, unidirectional GRU (nn.GRU(num_layers=1, bidirectional=False),
batch_first or not: only the weights are stored) followed by one nn.Linear head on the last
hidden state. Any module prefix and attribute names work (`gru.`, `model.rnn.`, `fc.`,
`classifier.`...): bitgru finds the GRU by its `weight_ih_l0` suffix and the head by its shape
[classes, hidden]. Every other tensor (a second layer, a reverse direction, a norm, ...) makes
bitgru refuse the file, listing the names, rather than silently computing something else.

Use from your own code:

    from export_pytorch import export
    export(model, "model.safetensors")          # or export(model.state_dict(), ...)

then, e.g.:

    bitgru calibrate --model model.safetensors --inputs calib.json --out bundle.safetensors
    bitgru eval --model bundle.safetensors --genome 88888888888888888 --inputs test.json

Run as a script with --demo DIR to write a seeded example (a model under a `model.` prefix with
attribute names `rnn` / `head`, its inputs file and PyTorch's logits), the files
crates/bitgru/tests/fixtures/export_pytorch/ holds and tests/import_export.rs checks.

Needs torch and numpy only (the safetensors container is written here, 20 lines).
"""
import argparse
import json
import os
import struct

import numpy as np


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: float32 numpy array} in the safetensors layout (little-endian, C order)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def export(model_or_state_dict, path):
    """Writes every tensor of the state dict as float32 safetensors (bitgru checks the names)."""
    sd = model_or_state_dict.state_dict() if hasattr(model_or_state_dict, "state_dict") else model_or_state_dict
    tensors = {k: v.detach().cpu().float().numpy() for k, v in sd.items()}
    write_safetensors(path, tensors)
    return sorted(tensors)


def demo(out):
    import torch

    torch.manual_seed(10)

    class Classifier(torch.nn.Module):
        def __init__(self, i, h, c):
            super().__init__()
            self.rnn = torch.nn.GRU(i, h, batch_first=True)
            self.head = torch.nn.Linear(h, c)

        def forward(self, x):
            y, _ = self.rnn(x)
            return self.head(y[:, -1])

    class Wrapper(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = Classifier(3, 6, 4)

        def forward(self, x):
            return self.model(x)

    net = Wrapper().eval()
    x = torch.randn(5, 7, 3)
    with torch.no_grad():
        logits = net(x)
    os.makedirs(out, exist_ok=True)
    names = export(net, os.path.join(out, "model.safetensors"))
    with open(os.path.join(out, "inputs.json"), "w") as f:
        json.dump({"sequences": x.tolist(), "steps": 7}, f)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"torch_version": torch.__version__, "tensor_names": names, "logits": logits.tolist()}, f)
    print(f"wrote {out}: {names}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--demo", metavar="DIR", help="write the seeded example model, inputs and logits")
    a = p.parse_args()
    if a.demo:
        demo(a.demo)
    else:
        p.print_help()
