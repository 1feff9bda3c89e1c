"""PyTorch side of Neurona's side-by-side benchmark.

Runs one workload (see bench/run.py) with the data already in memory, excludes warm-up steps and
prints one JSON object: workload, batch, threads, min and median microseconds per training step
(zero_grad + forward + loss + backward + optimizer step). bench/run.py starts this script and
Neurona's bench_workloads with the same arguments, under several thread settings, and prints the
ratios. --threads 0 keeps PyTorch's default thread count (no torch.set_num_threads call).
--channels-last puts the image workloads' model and input in torch.channels_last; --inference
times eval-mode forward passes under torch.no_grad() instead of training steps.
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


def mlp(sizes, act, final_act=None):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def lesson55():
    layers, width = [], 11
    for _ in range(3):
        layers += [nn.Linear(width, 1024), nn.ReLU(), nn.Dropout(0.3), nn.BatchNorm1d(1024)]
        width = 1024
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def cnn(name):
    """W3, W3b and W6 of bench/workloads.hpp."""
    bn = name != "W3"
    c, side, layers = (3, 32, []) if name == "W6" else (1, 28, [])
    plan = [32, 32, 0, 64, 64, 0] if name == "W6" else [32, 0, 64, 0]
    for out in plan:
        if out == 0:
            layers.append(nn.MaxPool2d(2))
            side //= 2
            continue
        layers.append(nn.Conv2d(c, out, 3, padding=1, bias=not bn))
        if bn:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU())
        c = out
    layers += [nn.Flatten(), nn.Linear(c * side * side, 128), nn.ReLU(), nn.Linear(128, 10)]
    return nn.Sequential(*layers), (3, 32, 32) if name == "W6" else (1, 28, 28)


def workload(name, batch):
    """Returns (model, loss, optimizer, x, y, rows) for one workload."""
    g = torch.Generator().manual_seed(0)
    if name in ("W1", "W1b"):
        rows = 1119
        x = torch.rand(rows, 11, generator=g)
        y = torch.rand(rows, 1, generator=g)
        model = mlp([11, 512, 512, 512, 1], nn.ReLU) if name == "W1" else lesson55()
        return model, nn.L1Loss(), torch.optim.Adam(model.parameters(), lr=1e-3), x, y, rows
    if name in ("W2", "W5"):
        rows = 60000
        x = torch.rand(rows, 784, generator=g)
        y = torch.randint(0, 10, (rows,), generator=g)
        model = mlp([784, 512, 256, 10], nn.ReLU)
        return model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3), x, y, rows
    if name == "W4":
        rows = 500
        x = torch.rand(rows, 2, generator=g) * 12 - 6
        y = (torch.rand(rows, 1, generator=g) > 0.5).float() * 2 - 1
        model = mlp([2, 8, 8, 1], nn.Tanh)
        return model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.03), x, y, rows
    if name in ("W3", "W3b", "W6"):
        rows = 1024
        model, shape = cnn(name)
        x = torch.rand(rows, *shape, generator=g)
        y = torch.randint(0, 10, (rows,), generator=g)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        return model, nn.CrossEntropyLoss(), opt, x, y, rows
    raise SystemExit(f"unknown workload {name}")


def run(name, batch, threads, seconds, repeats, channels_last=False, inference=False):
    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model, loss_fn, opt, x, y, rows = workload(name, batch)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    model.train()
    starts = list(range(0, rows - batch + 1, batch)) or [0]
    if inference:
        model.eval()
        torch.set_grad_enabled(False)

    def step(i):
        s = starts[i % len(starts)]
        xb, yb = x[s:s + batch], y[s:s + batch]
        if inference:
            return model(xb)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    # Warm-up (allocator, optimizer state), also sizing a repetition to about `seconds`.
    warm = min(200, max(5, len(starts)))
    t0 = time.perf_counter()
    for i in range(warm):
        step(i)
    per_step = (time.perf_counter() - t0) / warm
    steps = min(200000, max(3, int(seconds / per_step)))
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        for i in range(steps):
            step(i)
        times.append((time.perf_counter() - t0) / steps * 1e6)
    return {"impl": "pytorch", "workload": name, "batch": batch, "threads": torch.get_num_threads(),
            "steps": steps, "us_min": min(times), "us_median": statistics.median(times),
            "channels_last": channels_last, "mode": "inference" if inference else "train"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workload", required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=0.3)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--inference", action="store_true")
    a = p.parse_args()
    print(json.dumps(run(a.workload, a.batch, a.threads, a.seconds, a.repeats, a.channels_last, a.inference)),
          flush=True)


if __name__ == "__main__":
    main()
