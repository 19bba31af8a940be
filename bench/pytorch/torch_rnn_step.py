#!/usr/bin/python3
"""PyTorch peer of RnnStepBenchmark (issue 25): one training step of nn.RNN(nonlinearity='relu') with H hidden units,
2 inputs per step and a Linear(H, 1) output reading h_T, mean squared error, clip_grad_norm_(1.0), SGD update, on a
fixed random batch, in float32 on the CPU; W_rec = identity and biases 0 (IRNN's init), input weights N(0, 0.001^2).

Install (Debian): apt-get install -y python3-torch libopenblas0-pthread (see torch_step.py on the BLAS it needs).
Usage: torch_rnn_step.py --hidden 100 --steps-t 784 --batch 100 --threads 1 --warmup 2 --steps 8
Prints one JSON line: {"T", "batch", "hidden", "threads", "ms_per_step", "cpu_ms_per_step", "torch", "blas_core",
...}; cpu_ms_per_step is the process's CPU time (all threads), which a loaded machine disturbs less than wall time.
"""
import argparse
import json
import os
import statistics
import time

from torch_step import blas_core


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--steps-t", type=int, default=784)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8)
    a = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
    import torch  # imported after the thread variables are set

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    rnn = torch.nn.RNN(2, a.hidden, nonlinearity="relu", batch_first=True)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.eye(a.hidden))
        rnn.bias_hh_l0.zero_()
        rnn.bias_ih_l0.zero_()
        rnn.weight_ih_l0.normal_(0.0, 0.001)
    out = torch.nn.Linear(a.hidden, 1)
    params = list(rnn.parameters()) + list(out.parameters())
    opt = torch.optim.SGD(params, lr=1e-6)
    x = torch.rand(a.batch, a.steps_t, 2)
    y = 2 * torch.rand(a.batch, 1)
    loss_fn = torch.nn.MSELoss()

    def step():
        c0 = time.process_time()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        _, h = rnn(x)
        loss = 0.5 * loss_fn(out(h[-1]), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return time.perf_counter() - t0, time.process_time() - c0

    for _ in range(a.warmup):
        step()
    runs = [step() for _ in range(a.steps)]
    times = [r[0] for r in runs]
    ms = statistics.median(times) * 1e3
    cpu_ms = sum(r[1] for r in runs) / len(runs) * 1e3  # the mean, as RnnStepBenchmark's process CPU time
    print(json.dumps({"T": a.steps_t, "batch": a.batch, "hidden": a.hidden, "threads": a.threads,
                      "ms_per_step": ms, "cpu_ms_per_step": cpu_ms, "torch": torch.__version__, "blas_core": blas_core(),
                      "mkldnn": torch.backends.mkldnn.is_available(), "timed_steps": len(times)}))


if __name__ == "__main__":
    main()
