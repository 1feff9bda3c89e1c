#!/usr/bin/python3
"""PyTorch with the recipe of examples/fashion_mnist_cnn.yaml (and, with --augment, of
examples/fashion_mnist_cnn_augment.yaml), for the accuracy and the time per epoch beside
`neurona train`.

Same data (Debian's dataset-fashion-mnist IDX files, x / 255, [N, 1, 28, 28]), 10 % of the training
images held out for validation with a seeded shuffle, the same layers (PyTorch's default init, as
Neurona's), SGD(lr 0.1, momentum 0.9) under OneCycleLR(max_lr 0.1) stepped every batch, batch 64, cross-entropy on logits; it prints one line per
epoch with its training-loop wall time, then the test accuracy, and a JSON summary line.

  /usr/bin/python3 examples/pytorch/fashion_mnist_cnn.py [--epochs 3] [--threads 2] [--lr 0.1] [--onecycle 0.1]
                                                         [--augment --epochs 10] [--limit N]
                                                         [--channels-last]
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split, root):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.copy()).float().div_(255).unsqueeze(1)
    return x, torch.from_numpy(y.copy()).long()


def cnn():
    """examples/fashion_mnist_cnn.yaml (bench workload W3)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn_augment():
    """examples/fashion_mnist_cnn_augment.yaml."""
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(
        *block(1, 32), nn.MaxPool2d(2), *block(32, 64), nn.MaxPool2d(2), *block(64, 64),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))


def augment(x, g):
    """RandomCrop(28, padding=2) and a horizontal flip with probability 0.5, per image."""
    n = x.shape[0]
    padded = F.pad(x, (2, 2, 2, 2))
    dy = torch.randint(0, 5, (n,), generator=g)
    dx = torch.randint(0, 5, (n,), generator=g)
    flip = torch.rand(n, generator=g) < 0.5
    out = torch.empty_like(x)
    for i in range(n):
        img = padded[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28]
        out[i] = img.flip(-1) if flip[i] else img
    return out


def accuracy(model, x, y, memory_format):
    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(x), 1000):
            xb = x[s:s + 1000].contiguous(memory_format=memory_format)
            correct += (model(xb).argmax(1) == y[s:s + 1000]).sum().item()
    return correct / len(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=0.0, help="default: the configs' (0.1)")
    p.add_argument("--onecycle", type=float, default=0.1,
                   help="OneCycleLR with this max_lr over all the steps, stepped every batch (the configs'); 0: none")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    p.add_argument("--augment", action="store_true", help="the model and augmentation of the _augment config")
    p.add_argument("--limit", type=int, default=0, help="train on the first N training images only")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--data", default=os.environ.get("NEURONA_FASHION_MNIST", "/usr/share/datasets/fashion-mnist"))
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x, y = load("train", a.data)
    xt, yt = load("test", a.data)
    if a.limit:
        x, y = x[:a.limit], y[:a.limit]
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    n_val = round(0.1 * len(x))
    xv, yv = x[perm[:n_val]], y[perm[:n_val]]
    x, y = x[perm[n_val:]], y[perm[n_val:]]
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = (cnn_augment() if a.augment else cnn()).to(memory_format=fmt)
    lr = a.lr or 0.1
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    steps_per_epoch = (len(x) + 63) // 64
    step_sched = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.onecycle, total_steps=a.epochs * steps_per_epoch)
                  if a.onecycle else None)
    g = torch.Generator().manual_seed(1)
    epoch_times = []
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(x), generator=g)
        t0 = time.perf_counter()
        total, seen = 0.0, 0
        for s in range(0, len(x), 64):
            idx = order[s:s + 64]
            xb, yb = x[idx], y[idx]
            if a.augment:
                xb = augment(xb, g)
            xb = xb.contiguous(memory_format=fmt)
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            if step_sched:
                step_sched.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        epoch_times.append(time.perf_counter() - t0)
        val = accuracy(model, xv, yv, fmt)
        print(f"epoch {epoch + 1}/{a.epochs}: {epoch_times[-1]:.1f} s - loss {total / seen:.4f} "
              f"- val_accuracy {val:.4f}", flush=True)
    test = accuracy(model, xt, yt, fmt)
    print(f"test accuracy {test:.4f}")
    print(json.dumps({"impl": "pytorch", "threads": torch.get_num_threads(), "augment": a.augment,
                      "channels_last": a.channels_last, "epoch_seconds": epoch_times, "test_accuracy": test}))


if __name__ == "__main__":
    main()
