"""PyTorch run of the course's early-stopping lesson (4.5), the reference for Neurona's
examples/early_stopping.cpp: red wine, 70/30 split, min-max scaling with the training split's
statistics, 11-512-512-512-1 ReLU, Adam, MAE, batch 256, early stopping with min_delta 0.001,
patience 20 and restore-best-weights. Prints the best validation MAE for each seed.

usage: /usr/bin/python3 examples/pytorch/early_stopping_reference.py [csv] [seeds...]
"""
import sys

import numpy as np
import torch
from torch import nn


def run(path, seed):
    data = np.loadtxt(path, delimiter=";", skiprows=1, dtype=np.float32)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data))
    n_train = int(round(len(data) * 0.7))
    train, valid = data[order[:n_train]], data[order[n_train:]]
    lo, hi = train.min(axis=0), train.max(axis=0)
    train, valid = (train - lo) / (hi - lo), (valid - lo) / (hi - lo)
    xt, yt = torch.tensor(train[:, :11]), torch.tensor(train[:, 11:])
    xv, yv = torch.tensor(valid[:, :11]), torch.tensor(valid[:, 11:])
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(11, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.L1Loss()
    best, best_state, wait, epoch = float("inf"), None, 0, 0
    for epoch in range(500):
        perm = torch.randperm(len(xt))
        for s in range(0, len(xt), 256):
            idx = perm[s:s + 256]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
        with torch.no_grad():
            val = loss_fn(model(xv), yv).item()
        wait += 1
        if val + 0.001 < best:
            best, wait = val, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        elif wait >= 20:
            break
    model.load_state_dict(best_state)
    with torch.no_grad():
        restored = loss_fn(model(xv), yv).item()
    return epoch + 1, restored


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "data/winequality-red.csv"
    seeds = [int(s) for s in sys.argv[2:]] or [0, 1, 2]
    torch.set_num_threads(2)
    for seed in seeds:
        epochs, restored = run(path, seed)
        print(f"seed {seed}: {epochs} epochs, validation MAE of the restored weights {restored:.4f}")
