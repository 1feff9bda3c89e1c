"""Loads weights written by `neurona train` into the matching torch.nn.Sequential with
load_state_dict(strict=True) and compares its predictions with `neurona predict`'s.

usage: /usr/bin/python3 torch_compare.py WEIGHTS.safetensors INPUT.csv NEURONA_PREDICTIONS.csv

The model is the one of kMixedModel in test_cli.cpp. The scalers come from the file's metadata,
the same place `neurona predict` takes them from. Exits 1 when a prediction differs by more than 1e-5.
"""
import csv
import json
import struct
import sys

import torch
from torch import nn


class Dense(nn.Linear):
    """Keras's Dense: an nn.Linear applying its activation (same state_dict names)."""

    def __init__(self, fan_in, units, activation=None):
        super().__init__(fan_in, units)
        self.activation = activation

    def forward(self, x):
        y = super().forward(x)
        return self.activation(y) if self.activation else y


def keras_batch_norm(n):
    # Keras BatchNormalization(momentum=0.99, epsilon=1e-3) in PyTorch's terms.
    return nn.BatchNorm1d(n, eps=1e-3, momentum=0.01)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        # Counts are I64, as PyTorch writes them; everything else F32.
        count = name.endswith("num_batches_tracked")
        assert info["dtype"] == ("I64" if count else "F32"), name
        a, b = info["data_offsets"]
        dtype = torch.int64 if count else torch.float32
        tensors[name] = torch.frombuffer(bytearray(data[8 + n + a:8 + n + b]), dtype=dtype).reshape(info["shape"])
    return tensors, meta


def scaler(meta_json):
    s = json.loads(meta_json)
    st = {k: torch.tensor(v["data"], dtype=torch.float32).reshape(v["shape"]) for k, v in s["state"].items()}
    if s["type"] == "StandardScaler":
        return lambda x: (x - st["mean"]) / st["scale"], lambda y: y * st["scale"] + st["mean"]
    lo, hi = float(st["feature_range"][0]), float(st["feature_range"][1])
    rng = st["data_max"] - st["data_min"]
    scale = torch.where(rng > 0, (hi - lo) / torch.where(rng > 0, rng, torch.ones_like(rng)), torch.zeros_like(rng))
    fwd = lambda x: (x - st["data_min"]) * scale + lo
    inv = lambda y: (y - lo) / scale + st["data_min"]
    return fwd, inv


def main():
    weights, inputs, predictions = sys.argv[1:4]
    state, meta = read_safetensors(weights)
    net = nn.Sequential(
        Dense(11, 32, torch.relu),
        nn.Dropout(0.3),
        nn.BatchNorm1d(32),
        Dense(32, 16, nn.functional.gelu),
        keras_batch_norm(16),
        Dense(16, 8, torch.tanh),
        Dense(8, 1),
    )
    net.load_state_dict(state, strict=True)
    net.eval()

    with open(inputs, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header = rows[0]
    target = header.index("quality")
    x = torch.tensor([[float(v) for i, v in enumerate(r) if i != target] for r in rows[1:]], dtype=torch.float32)
    x_fwd, _ = scaler(meta["neurona.x_scaler"])
    _, y_inv = scaler(meta["neurona.y_scaler"])
    with torch.no_grad():
        ours = y_inv(net(x_fwd(x))).reshape(-1)

    with open(predictions, newline="") as f:
        rows = list(csv.reader(f))
    theirs = torch.tensor([float(r[0]) for r in rows[1:]], dtype=torch.float32)
    diff = (ours - theirs).abs().max().item()
    print(f"torch {torch.__version__}: {len(theirs)} predictions, max abs diff {diff:.3g}")
    sys.exit(0 if diff <= 1e-5 else 1)


if __name__ == "__main__":
    main()
