"""Image ops, Neurona beside PyTorch: forward and forward + backward of single ops on fixed shapes,
1 thread by default, min of --repeats runs (ms) of wall time and of the thread's CPU time (the
steadier figure when other jobs load the machine). Runs build/bench/bench_conv_ops, then the same
ops in PyTorch (NCHW, torch.set_num_threads), and prints both with the ratio, and the convs' GFLOP/s
beside the core's measured FMA peak. Then whole training steps of the Fashion-MNIST CNN W3
(conv32-relu-maxpool2-conv64-relu-maxpool2-dense128-relu-dense10, 'same' 3x3 convs, batch 64,
cross entropy, SGD momentum 0.9) and W3b (BatchNorm2d after each conv) at 1 and 2 threads
(--step-threads): Neurona's functional ops beside PyTorch's nn modules in NCHW and channels_last.

    /usr/bin/python3 bench/conv_ops.py [--build build] [--threads 1] [--repeats 5] [--step-threads 1,2]
"""
import argparse
import json
import os
import subprocess
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def min_ms(repeats, fn):
    """(wall, thread CPU) minima in ms; at 1 thread PyTorch runs the op on this thread."""
    fn()
    wall = cpu = 1e30
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.thread_time()
        fn()
        cpu = min(cpu, (time.thread_time() - c0) * 1e3)
        wall = min(wall, (time.perf_counter() - t0) * 1e3)
    return wall, cpu


def torch_op(repeats, inputs, op):
    inputs = [t.requires_grad_(True) for t in inputs]
    with torch.no_grad():
        g = torch.empty_like(op(*inputs)).uniform_(-1, 1)

    def fwd():
        with torch.no_grad():
            op(*inputs)

    def both():
        for t in inputs:
            t.grad = None
        op(*inputs).backward(g)

    return min_ms(repeats, fwd), min_ms(repeats, both)


def torch_rows(repeats):
    r = lambda *s: torch.empty(*s).uniform_(-1, 1)
    return {
        "conv 32->64 3x3 pad1 @14x14 b64": torch_op(
            repeats, [r(64, 32, 14, 14), r(64, 32, 3, 3) * 0.1, r(64) * 0.1], lambda x, w, b: F.conv2d(x, w, b, padding=1)),
        "conv 1->32 3x3 pad1 @28x28 b64": torch_op(
            repeats, [r(64, 1, 28, 28), r(32, 1, 3, 3) * 0.3, r(32) * 0.1], lambda x, w, b: F.conv2d(x, w, b, padding=1)),
        "maxpool2 64x32x28x28": torch_op(repeats, [r(64, 32, 28, 28)], lambda x: F.max_pool2d(x, 2)),
        "batchnorm2d train 64x32x28x28": torch_op(
            repeats, [r(64, 32, 28, 28), torch.ones(32), torch.zeros(32)],
            lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)),
    }


def torch_step(bn, channels_last, repeats):
    """Min ms of one W3 (bn=False) or W3b training step in PyTorch, after 3 warm-up steps."""
    nn = torch.nn
    torch.manual_seed(0)

    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding="same")] + ([nn.BatchNorm2d(c_out)] if bn else []) + [nn.ReLU()]

    model = nn.Sequential(*block(1, 32), nn.MaxPool2d(2), *block(32, 64), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    x, y = torch.rand(64, 1, 28, 28), torch.arange(64) * 7 % 10
    if channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(2):
        step()
    return min_ms(repeats, step)[0]


def step_table(exe, threads_list, repeats):
    print(f"\ntraining step, batch 64, min of {3 * repeats} (Neurona) / {3 * repeats} (torch) steps, ms; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'step':5} {'threads':>7} {'neurona':>8} {'torch NCHW':>10} {'torch NHWC':>10} {'best/neurona':>12}")
    for threads in threads_list:
        out = subprocess.run([exe, "--threads", str(threads), "--repeats", str(repeats), "--only", "step"],
                             check=True, capture_output=True, text=True).stdout
        ours = {row["op"]: row for row in map(json.loads, out.splitlines())}
        torch.set_num_threads(threads)
        for name, bn in [("W3", False), ("W3b", True)]:
            n = ours[f"step {name}"]["step_ms"]
            nchw, nhwc = torch_step(bn, False, 3 * repeats), torch_step(bn, True, 3 * repeats)
            print(f"{name:5} {threads:7d} {n:8.2f} {nchw:10.2f} {nhwc:10.2f} {min(nchw, nhwc) / n:12.2f}")
    print("best/neurona = PyTorch's faster layout / Neurona (above 1: Neurona is faster)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--step-threads", default="1,2", help="thread counts of the step table ('' skips it)")
    a = ap.parse_args()
    exe = os.path.join(a.build, "bench", "bench_conv_ops")
    out = subprocess.run([exe, "--threads", str(a.threads), "--repeats", str(a.repeats)], check=True,
                         capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    ours = {row["op"]: row for row in rows if "forward_ms" in row}
    peak = next(row["gflops"] for row in rows if row["op"] == "fma peak")
    torch.set_num_threads(a.threads)
    theirs = torch_rows(a.repeats)
    print(f"threads {a.threads}, min of {a.repeats}, ms; torch {torch.__version__}; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'op':32} {'':5} {'neurona fwd':>11} {'torch fwd':>9} {'ratio':>5} {'neurona f+b':>11} "
          f"{'torch f+b':>9} {'ratio':>5}")
    for name, row in ours.items():
        (tfw, tfc), (tbw, tbc) = theirs[name]
        for kind, nf, nb, tf, tb in [("wall", row["forward_ms"], row["forward_backward_ms"], tfw, tbw),
                                     ("cpu", row["forward_cpu_ms"], row["forward_backward_cpu_ms"], tfc, tbc)]:
            print(f"{name if kind == 'wall' else '':32} {kind:5} {nf:11.3f} {tf:9.3f} {tf / nf:5.2f} {nb:11.3f} "
                  f"{tb:9.3f} {tb / nb:5.2f}")
    print("ratio = torch time / neurona time (above 1: Neurona is faster); cpu = the thread's CPU time")
    print(f"\nconv GFLOP/s (wall; f+b counts forward, input and weight gradients), FMA peak of "
          f"{a.threads} core(s): {peak:.1f}")
    for name, row in ours.items():
        if row["forward_gflop"] > 0:
            fwd = row["forward_gflop"] / row["forward_ms"] * 1e3
            both = 3 * row["forward_gflop"] / row["forward_backward_ms"] * 1e3
            print(f"{name:32} fwd {fwd:6.1f} ({100 * fwd / peak:4.1f} % of peak)   f+b {both:6.1f} "
                  f"({100 * both / peak:4.1f} %)")
    if a.step_threads:
        step_table(exe, [int(t) for t in a.step_threads.split(",")], a.repeats)


if __name__ == "__main__":
    main()
