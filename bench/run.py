"""Neurona vs PyTorch, side by side, in one run (started by bench/run.sh).

For every workload, batch size and thread count (1 and 2) it runs Neurona's bench_workloads and
PyTorch's torch_workloads.py, one process each, with the same model, data size and threads:
PyTorch under its defaults and under tuned settings (torch.set_num_threads plus OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and OMP_WAIT_POLICY=PASSIVE), the ratio being taken against PyTorch's best.
Then two more tables: the contention row (W2 at batch 32 on 1 thread and on all cores while a busy
process started here occupies one core, PyTorch beside it) and the process rows (the whole
`neurona train bench/configs/<workload>.yaml` process, wall time / steps, against PyTorch's loop
and Neurona's own inner-loop row). The image workloads (W3, W3b, W6) take PyTorch's best of NCHW
and channels_last, and have an inference table at batch 1 (eval-mode forward passes, no gradient).
Prints the tables and writes bench/RESULTS.md (--results another file; --only W3,W3b,W6 runs those
workloads alone, without the GEMM, bf16-accuracy and contention tables).
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# (workload, batch, target speed-up over PyTorch or None)
WORKLOADS = [
    ("W4", 10, 50.0),
    ("W1", 256, 1.3),
    ("W1b", 256, 1.5),
    ("W2", 32, None),
    ("W2", 128, 1.5),
    ("W2", 512, None),
    ("W5", 1, 3.0),
    ("W5", 8, 3.0),
    ("W5", 2048, 1.0),
    ("W3", 64, 2.0),
    ("W3b", 64, 2.0),
    ("W6", 64, 1.5),
]
# Image workloads: PyTorch runs them in NCHW and in channels_last (model and input), its best counts.
IMAGE_WORKLOADS = {"W3", "W3b", "W6"}
# Inference rows: (workload, batch), eval-mode forward passes without gradients.
INFERENCE = [("W3", 1), ("W3b", 1), ("W6", 1)]
# W5 is W2's model; its batches 32, 128 and 512 are the W2 rows.
W5_FROM_W2 = {32: 1.0, 128: 1.0, 512: 1.0}

# Process rows: (workload, batch, config in bench/configs, --set overrides, optimizer steps the run
# takes). Each config is its workload's model, loss, optimizer and batch on a real data set, with
# logging off; the steps follow from the rows and epochs written in it.
PROCESS = [
    ("W4", 10, "w4.yaml", [], 20000),    # 500 spiral points / 10 x 400 epochs
    ("W1", 256, "w1.yaml", [], 200),     # 1024 wine rows / 256 x 50 epochs
    ("W1b", 256, "w1b.yaml", [], 80),    # 1024 wine rows / 256 x 20 epochs
    ("W2", 32, "w2.yaml", [], 1875),     # 60,000 Fashion-MNIST images / 32 x 1 epoch
    ("W2", 128, "w2.yaml", ["fit.batch_size=128"], 469),  # 468 full batches and one of 96
    ("W3", 64, "w3.yaml", [], 200),      # the first 12,800 Fashion-MNIST images / 64 x 1 epoch
    ("W3b", 64, "w3b.yaml", [], 200),    # the same
]
# W6 (CIFAR-size images) has no data set on the machine and no process row.
# W5 is W2's model on the data of W2's sizes and needs no process row of its own.
PROCESS_TARGET_VS_TORCH = {"W4": 30.0}
PROCESS_TARGET_VS_INNER = 1.5

TORCH_TUNED = [
    ("set_num_threads+OMP+OPENBLAS=1+PASSIVE", lambda t: {"OMP_NUM_THREADS": str(t), "OPENBLAS_NUM_THREADS": "1",
                                                         "OMP_WAIT_POLICY": "PASSIVE"}),
    ("set_num_threads+OMP+OPENBLAS=t+PASSIVE", lambda t: {"OMP_NUM_THREADS": str(t), "OPENBLAS_NUM_THREADS": str(t),
                                                         "OMP_WAIT_POLICY": "PASSIVE"}),
]


def run_json(cmd, env_extra=None):
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS",
              "NEURONA_NUM_THREADS"):
        env.pop(k, None)
    env.update(env_extra or {})
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def start_busy_process():
    """A Python `while True` loop pinned to the last core: another tenant's busy process."""
    last = os.cpu_count() - 1
    def pin():
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {last})
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=pin)
    time.sleep(0.2)
    return busy, last


def run_process(exe, config, sets, threads):
    """Wall seconds of one `neurona train CONFIG` process (threads None: the default, all cores)."""
    cmd = [exe, "train", os.path.join("bench", "configs", config)]
    for kv in sets:
        cmd += ["--set", kv]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    env = {k: v for k, v in os.environ.items() if k not in ("NEURONA_NUM_THREADS",)}
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        return None, (r.stderr.strip().splitlines() or ["failed"])[-1]
    return wall, r.stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    p.add_argument("--seconds", type=float, default=0.3, help="length of one repetition")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3, help="alternating Neurona/PyTorch rounds per workload")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--quick", action="store_true", help="W4, W1 and W1b only (plus the contention row)")
    p.add_argument("--only", default="", help="comma-separated workloads (e.g. W3,W3b,W6): those alone, "
                   "without the GEMM, accuracy and contention tables")
    p.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"), help="the Markdown file written")
    a = p.parse_args()
    exe = os.path.join(a.build, "bench", "bench_workloads")
    torch_py = [sys.executable, os.path.join(HERE, "torch_workloads.py")]
    threads = [int(t) for t in a.threads.split(",")]
    common = ["--seconds", str(a.seconds), "--repeats", str(a.repeats)]
    workloads = WORKLOADS[:3] if a.quick else WORKLOADS
    only = [w for w in a.only.split(",") if w]
    if only:
        workloads = [x for x in WORKLOADS if x[0] in only]
    inference = [x for x in INFERENCE if x[0] in {w for w, _, _ in workloads}]
    basics = not only  # the GEMM, bf16-accuracy and contention tables

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    gemm = {}  # (threads, precision) -> the best ceiling and the best W1-layer rate over the rounds
    gemm_shapes = {}  # (threads, shape, M, N, K) -> the best rates over the rounds
    for _ in range(a.rounds if basics else 0):
        for t in threads:
            for r in run_json([exe, "--gemm", "--threads", str(t)]):
                if r["impl"] == "gemm_shape":
                    g = gemm_shapes.setdefault((t, r["shape"], r["M"], r["N"], r["K"]), dict(r))
                    for k in ("neurona_gflops", "openblas_gflops", "fma_peak_gflops"):
                        g[k] = max(g[k], r[k])
                    continue
                g = gemm.setdefault((t, r["precision"]), dict(r))
                for k in ("ceiling_gflops", "w1_layer_gflops", "w1_layer_openblas_gflops", "fma_peak_gflops"):
                    g[k] = max(g[k], r[k])
    def fastest(records):
        return min(records, key=lambda r: r["us_min"])

    rows = []
    for (w, b, target) in workloads:
        model = "W2" if w == "W5" else w
        variants = [("fp32", None)] + ([("bf16", 2.0)] if w == "W1b" else [])
        # Every measurement is taken `rounds` times, Neurona and PyTorch alternating, and the
        # fastest of each kept: the machine's speed drifts over seconds (other tenants), and
        # alternating gives both sides the same chances.
        default, neurona, tuned = [], {}, {}
        for rnd in range(a.rounds):
            log(f"{w} batch {b}: PyTorch defaults (round {rnd + 1}/{a.rounds})")
            default.append(run_json(torch_py + ["--workload", model, "--batch", str(b), "--threads", "0"] + common)[0])
            for t in threads:
                log(f"{w} batch {b}, {t} thread(s) (round {rnd + 1}/{a.rounds})")
                for prec, _ in variants:
                    neurona.setdefault((t, prec), []).extend(run_json(
                        [exe, "--workload", model, "--batch", str(b), "--threads", str(t), "--precision", prec] + common))
                for name, env in TORCH_TUNED:
                    for cl in ([False, True] if model in IMAGE_WORKLOADS else [False]):
                        r = run_json(torch_py + ["--workload", model, "--batch", str(b), "--threads", str(t)] +
                                     (["--channels-last"] if cl else []) + common, env(t))[0]
                        tuned.setdefault(t, []).append(dict(r, config=name + ("+channels_last" if cl else "")))
        default = fastest(default)
        for t in threads:
            # PyTorch's best = its fastest configuration at t threads. Its defaults run one torch
            # thread but leave OpenBLAS free to use every core, so they count when t is all cores.
            candidates = tuned[t] + ([dict(default, config="defaults")] if t >= os.cpu_count() else [])
            best = fastest(candidates)
            for prec, prec_target in variants:
                n = fastest(neurona[(t, prec)])
                rows.append({"workload": w, "batch": b, "threads": t, "precision": n["precision"], "neurona": n,
                             "torch_best": best, "torch_default": default,
                             "target": prec_target if prec == "bf16" else target})
    for r in [r for r in rows if r["workload"] == "W2" and r["batch"] in W5_FROM_W2]:
        rows.append(dict(r, workload="W5", target=W5_FROM_W2[r["batch"]]))
    # Inference at batch 1: the same alternation, eval-mode forward passes without gradients.
    inference_rows = []
    for (w, b) in inference:
        default, neurona, tuned = [], {}, {}
        for rnd in range(a.rounds):
            log(f"{w} batch {b} inference: PyTorch defaults (round {rnd + 1}/{a.rounds})")
            default.append(run_json(torch_py + ["--workload", w, "--batch", str(b), "--threads", "0",
                                                "--inference"] + common)[0])
            for t in threads:
                log(f"{w} batch {b} inference, {t} thread(s) (round {rnd + 1}/{a.rounds})")
                neurona.setdefault(t, []).extend(run_json(
                    [exe, "--workload", w, "--batch", str(b), "--threads", str(t), "--inference"] + common))
                for name, env in TORCH_TUNED:
                    for cl in (False, True):
                        r = run_json(torch_py + ["--workload", w, "--batch", str(b), "--threads", str(t),
                                                 "--inference"] + (["--channels-last"] if cl else []) + common,
                                     env(t))[0]
                        tuned.setdefault(t, []).append(dict(r, config=name + ("+channels_last" if cl else "")))
        default = fastest(default)
        for t in threads:
            candidates = tuned[t] + ([dict(default, config="defaults")] if t >= os.cpu_count() else [])
            inference_rows.append({"workload": w, "batch": b, "threads": t, "precision": "fp32",
                                   "neurona": fastest(neurona[t]), "torch_best": fastest(candidates),
                                   "torch_default": default, "target": None})

    accuracy = run_json([exe, "--accuracy", "--threads", str(max(threads)), "--data",
                         os.path.join(HERE, "..", "data", "winequality-red.csv")])[0] if basics else None

    # Contention: W2 at batch 32, one thread and all cores, while a busy process holds one core.
    cores = os.cpu_count()
    cont_threads = sorted({1, cores})
    cont = {}  # (impl, threads) -> records
    busy, busy_core = start_busy_process()
    try:
        for rnd in range(a.rounds if basics else 0):
            for t in cont_threads:
                log(f"W2 batch 32, {t} thread(s), busy process on core {busy_core} (round {rnd + 1}/{a.rounds})")
                cont.setdefault(("neurona", t), []).extend(run_json(
                    [exe, "--workload", "W2", "--batch", "32", "--threads", str(t)] + common))
                name, env = TORCH_TUNED[0]
                cont.setdefault(("torch", t), []).extend(run_json(
                    torch_py + ["--workload", "W2", "--batch", "32", "--threads", str(t)] + common, env(t)))
    finally:
        busy.kill()
        busy.wait()

    # Process rows: the whole `neurona train CONFIG`, for the workloads measured above.
    neurona_cli = os.path.join(a.build, "neurona")
    measured = {(r["workload"], r["batch"], r["threads"]): r for r in rows if r["precision"] == "fp32"}
    process_rows = []
    for (w, b, config, sets, steps) in PROCESS:
        if not any((w, b, t) in measured for t in threads):
            continue
        for t in threads:
            inner = measured.get((w, b, t))
            if inner is None:
                continue
            walls, error = [], None
            for rnd in range(a.rounds):
                log(f"{w} batch {b}: neurona train bench/configs/{config}, {t} thread(s) (round {rnd + 1}/{a.rounds})")
                wall, out = run_process(neurona_cli, config, sets, None if t == cores else t)
                if wall is None:
                    error = out
                    break
                walls.append(wall)
            process_rows.append({"workload": w, "batch": b, "threads": t, "config": config, "sets": sets,
                                 "steps": steps, "walls": walls, "error": error, "inner": inner})

    order = {"W4": 0, "W1": 1, "W1b": 2, "W2": 3, "W5": 4, "W3": 5, "W3b": 6, "W6": 7}
    rows.sort(key=lambda r: (order[r["workload"]], r["batch"], r["precision"], r["threads"]))

    def step_table(rows, unit):
        header = (f"| workload | batch | thr | prec | Neurona µs/{unit} min (med) | samples/s | GFLOP/s "
                  "| PyTorch best µs min (med) | PyTorch default µs (thr) | ratio | target |")
        lines = [header, "| " + " | ".join(["---"] * 11) + " |"]
        for r in rows:
            n, tb, td = r["neurona"], r["torch_best"], r["torch_default"]
            ratio = tb["us_min"] / n["us_min"]
            tgt = r["target"]
            verdict = "" if tgt is None else (f"≥ {tgt:g}× {'met' if ratio >= tgt else 'NOT met'}")
            # The image workloads say which of PyTorch's layouts was the faster.
            layout = ""
            if r["workload"] in IMAGE_WORKLOADS:
                layout = ", channels_last" if tb.get("channels_last") else ", NCHW"
            lines.append(
                f"| {r['workload']} | {r['batch']} | {r['threads']} | {r['precision']} "
                f"| {n['us_min']:.1f} ({n['us_median']:.1f}) | {r['batch'] / n['us_min'] * 1e6:,.0f} "
                f"| {n['gflop_per_step'] / n['us_min'] * 1e6:.1f} "
                f"| {tb['us_min']:.1f} ({tb['us_median']:.1f}{layout}) | {td['us_min']:.1f} ({td['threads']}) "
                f"| {ratio:.2f}× | {verdict} |")
        return lines
    lines = step_table(rows, "step")
    inference_table = "\n".join(step_table(inference_rows, "forward"))
    gemm_lines = []
    for (t, prec), g in sorted(gemm.items()):
        gemm_lines.append(
            f"- {t} thread(s): fp32 GEMM ceiling (OpenBLAS sgemm 1024³) **{g['ceiling_gflops']:.1f} GFLOP/s**; "
            f"W1 hidden layer's three GEMMs (256×512×512) through Neurona in {prec}: {g['w1_layer_gflops']:.1f} GFLOP/s "
            f"({100 * g['w1_layer_gflops'] / g['ceiling_gflops']:.0f} % of the fp32 ceiling"
            + (f"; OpenBLAS split over the pool: {g['w1_layer_openblas_gflops']:.1f}; measured FMA peak "
               f"{g['fma_peak_gflops']:.1f})" if prec == "fp32" else ")"))
    for (t, name, m, n, k), g in sorted(gemm_shapes.items()):
        gemm_lines.append(
            f"  - {t} thread(s), {name} {m}×{n}×{k}{' (Aᵀ)' if g['ta'] else ''}{' (Bᵀ)' if g['tb'] else ''}: "
            f"Neurona {g['neurona_gflops']:.1f}, OpenBLAS {g['openblas_gflops']:.1f} GFLOP/s "
            f"({100 * g['neurona_gflops'] / g['fma_peak_gflops']:.0f} % of the measured peak)")
    acc_line = "" if accuracy is None else (f"- bf16-mixed accuracy (W1b on the red wine data, {accuracy['epochs']} epochs, batch 256, Adam; "
                f"mean validation MAE of the last 10 epochs): fp32 {accuracy['val_loss_fp32']:.5f}, bf16-mixed {accuracy['val_loss_bf16']:.5f}, "
                f"relative difference {100 * accuracy['relative_difference']:.2f} % (target ≤ 1 %)")
    table = "\n".join(lines)

    def ms(records):
        us = [r["us_min"] for r in records]
        med = [r["us_median"] for r in records]
        return min(us) / 1e3, statistics.median(med) / 1e3
    cont_table = ""
    cont_lines = ["| workload | batch | thr | Neurona ms/step min (med) | PyTorch ms/step min (med) | PyTorch / Neurona (med) |",
                  "| --- | --- | --- | --- | --- | --- |"]
    for t in cont_threads if basics else []:
        nm, nmed = ms(cont[("neurona", t)])
        tm, tmed = ms(cont[("torch", t)])
        cont_lines.append(f"| W2 | 32 | {t}{' (default)' if t == cores else ''} | {nm:.2f} ({nmed:.2f}) "
                          f"| {tm:.2f} ({tmed:.2f}) | {tmed / nmed:.2f}× |")
    if basics:
        one, full = ms(cont[("neurona", 1)])[1], ms(cont[("neurona", cores)])[1]
        cont_verdict = (f"- Neurona's default ({cores} threads) against 1 thread with the busy process: "
                        f"{full:.2f} / {one:.2f} ms = {full / one:.2f}× (medians; target ≤ 1: "
                        f"{'met' if full <= one else 'NOT met'})")
        cont_table = "\n".join(cont_lines + ["", cont_verdict])

    proc_lines = ["| workload | batch | thr | config | steps | process s (best) | process µs/step | inner-loop µs/step "
                  "| process / inner | PyTorch loop µs/step | PyTorch loop / process | targets |",
                  "| " + " | ".join(["---"] * 12) + " |"]
    for r in process_rows:
        cfg = "bench/configs/" + r["config"] + "".join(f" --set {kv}" for kv in r["sets"])
        if r["error"] is not None:
            proc_lines.append(f"| {r['workload']} | {r['batch']} | {r['threads']} | {cfg} | {r['steps']} "
                              f"| not run: {r['error']} | | | | | | |")
            continue
        wall = min(r["walls"])
        per_step = wall / r["steps"] * 1e6
        inner = r["inner"]["neurona"]["us_min"]
        torch_us = r["inner"]["torch_best"]["us_min"]
        vs_inner, vs_torch = per_step / inner, torch_us / per_step
        verdicts = [f"≤ {PROCESS_TARGET_VS_INNER:g}× inner {'met' if vs_inner <= PROCESS_TARGET_VS_INNER else 'NOT met'}"]
        tgt = PROCESS_TARGET_VS_TORCH.get(r["workload"])
        if tgt is not None:
            verdicts.append(f"≥ {tgt:g}× PyTorch {'met' if vs_torch >= tgt else 'NOT met'}")
        proc_lines.append(f"| {r['workload']} | {r['batch']} | {r['threads']} | {cfg} | {r['steps']} | {wall:.3f} "
                          f"| {per_step:.1f} | {inner:.1f} | {vs_inner:.2f}× | {torch_us:.1f} | {vs_torch:.2f}× "
                          f"| {'; '.join(verdicts)} |")
    proc_table = "\n".join(proc_lines)

    print(table)
    print("\n".join(gemm_lines))
    print(acc_line)
    if inference_rows:
        print("\nInference: eval-mode forward passes, no gradient")
        print(inference_table)
    if basics:
        print("\nContention: W2 batch 32 with a busy process pinned to core", busy_core)
        print(cont_table)
    print("\nProcess rows: the whole `neurona train CONFIG` process")
    print(proc_table)

    devices = subprocess.run([os.path.join(a.build, "neurona"), "devices"], capture_output=True, text=True).stdout
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    import torch
    with open(a.results, "w") as f:
        f.write(f"# Neurona vs PyTorch: results\n\n{now}, `bash bench/run.sh`; PyTorch {torch.__version__}; "
                f"load average at the end {' '.join(load)} on {os.cpu_count()} cores (the benchmark itself keeps it "
                f"near 1.5; well above 2 means other work was running: treat the figures as noisy).\n\n")
        f.write("```\n$ neurona devices\n" + devices + "```\n\n")
        f.write("µs per training step (zero_grad + forward + loss + backward + optimizer step), min (median) over "
                f"{a.repeats} repetitions of ~{a.seconds} s after warm-up. Ratio = PyTorch's best min / Neurona's min "
                "at the same thread count. PyTorch best = the fastest of: " +
                "; ".join(n for n, _ in TORCH_TUNED) + "; and, at as many threads as cores, its defaults (one torch "
                "thread, OpenBLAS on every core). Each figure is the fastest of " + str(a.rounds) + " rounds that "
                "alternate Neurona and PyTorch. "
                "PyTorch default = no thread settings at all. "
                "GFLOP/s counts the matmuls only (forward, input and weight gradients; the convolutions' too). "
                "The image workloads (W3, W3b, W6) try every PyTorch configuration in NCHW and in channels_last "
                "(model and input), and the PyTorch best cell names the faster layout.\n\n")
        f.write(table + "\n\n" + "\n".join(gemm_lines) + "\n" + acc_line + "\n")
        if inference_rows:
            f.write("\n## Inference\n\nµs per forward pass in eval mode without gradients (Neurona's NoGradGuard, "
                    "PyTorch's no_grad), batch 1, otherwise as above: PyTorch's best of the same configurations in "
                    "NCHW and channels_last.\n\n" + inference_table + "\n")
    if basics:
        with open(a.results, "a") as f:
            f.write("\n## Under contention\n\nW2 at batch 32 while another process (a Python `while True` loop that "
                    f"bench/run.py starts and kills) is pinned to core {busy_core}: Neurona's bench_workloads on 1 thread "
                    f"and on {cores} (its default, all cores), PyTorch under {TORCH_TUNED[0][0]} at the same thread "
                    f"count. ms per step, min (median of the repetitions' medians) over {a.rounds} alternating rounds; "
                    "the ratios use the medians, the figure a loaded machine gives most of the time.\n\n")
            f.write(cont_table + "\n")
    with open(a.results, "a") as f:
        f.write("\n## The whole process\n\n`neurona train CONFIG` run as a user runs it (start-up, config, "
                "data loading and scaling, the training loop, the closing lines; logging off), timed from outside "
                f"by bench/run.py, best of {a.rounds}; `--threads` only when fewer than all cores. µs/step = wall "
                "time / the run's optimizer steps. Inner-loop µs/step is Neurona's row above (same workload, batch "
                "and threads, data in memory); PyTorch loop is PyTorch's best row above (its loop alone, data in "
                "memory, no start-up). The W2 and W3 configs read Fashion-MNIST from its gzipped IDX files and "
                "score the 10,000 test images at the end, both counted in the wall time.\n\n")
        f.write(proc_table + "\n")
    log(f"wrote {a.results}")


if __name__ == "__main__":
    main()
