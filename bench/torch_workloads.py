"""PyTorch side of Neurona's side-by-side benchmark.

Runs one workload (see bench/run.py) with the data already in memory, excludes warm-up steps and
prints one JSON object: workload, batch, threads, min and median microseconds per training step
(zero_grad + forward + loss + backward + optimizer step). bench/run.py starts this script and
Neurona's bench_workloads with the same arguments, under several thread settings, and prints the
ratios. --threads 0 keeps PyTorch's default thread count (no torch.set_num_threads call).
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
    raise SystemExit(f"unknown workload {name}")


def run(name, batch, threads, seconds, repeats):
    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model, loss_fn, opt, x, y, rows = workload(name, batch)
    model.train()
    starts = list(range(0, rows - batch + 1, batch)) or [0]

    def step(i):
        s = starts[i % len(starts)]
        xb, yb = x[s:s + batch], y[s:s + batch]
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
            "steps": steps, "us_min": min(times), "us_median": statistics.median(times)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workload", required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=0.3)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    print(json.dumps(run(a.workload, a.batch, a.threads, a.seconds, a.repeats)), flush=True)


if __name__ == "__main__":
    main()
