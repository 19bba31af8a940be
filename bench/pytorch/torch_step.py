#!/usr/bin/python3
"""PyTorch peer for `pathsgd bench`: the same training step (forward, mean softmax cross-entropy, backward,
SGD update) on the same architecture, batch size, step count and thread count, in float32 on the CPU.

Install (Debian): apt-get install -y python3-torch libopenblas0-pthread      (runs with /usr/bin/python3)
Without libopenblas0-pthread, Debian's torch runs its GEMMs on the reference BLAS (libblas3) and is about 25x slower
(measured: 5.5 s per 784-4000-4000-10 step at batch 100); the script prints the BLAS core it got ("unknown" there).

Usage: torch_step.py --arch 784-4000-4000-10 --batch 100 --steps 20 --warmup 5 --threads 2 [--optimizer sgd]
       [--min-seconds 1.0 --warmup-seconds 1.5 --warmup-cap-seconds 5]
   or: torch_step.py --layers "conv(32,3,pad=1),maxpool(2),dense(256)" --shape 3x32x32 --classes 10 [the same options]
       (a conv net, `pathsgd bench --conv` or `--residual`: nn.Sequential of Conv2d/ReLU, MaxPool2d, AvgPool2d,
       Flatten, Linear/ReLU and residual blocks res(...) (y = relu(x + f(x)), f an nn.Sequential whose last layer
       has no ReLU), then the output Linear(classes); the same layer syntax as pathsgd's)
Warm-up: at least --warmup steps and --warmup-seconds (the step minimum waived after --warmup-cap-seconds); timed: at
least --steps steps and --min-seconds, the rule of `pathsgd bench`, applied to the peer's own steps.

Prints one JSON line: {"arch", "batch", "threads", "optimizer", "ms_per_step", "samples_per_s", "torch", "blas_core"}.
Debian's torch runs its GEMMs on Debian's OpenBLAS, which picks the slow Prescott kernel on some CPUs unless
OPENBLAS_CORETYPE is set; the script reports the core it got (openblas_get_corename) so that the comparison says which
kernel the peer ran.
"""
import argparse
import ctypes
import ctypes.util
import json
import os
import re
import statistics
import time


def split_items(spec):
    """The top-level items of a layer list: commas inside parentheses (a res(...) block's items) do not split."""
    items, depth, cur = [], 0, ""
    for ch in spec:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        items.append(cur)
    return [i.strip() for i in items if i.strip()]


def conv_net(torch, spec, shape, classes):
    """nn.Sequential for a pathsgd layer list such as conv(32,3,pad=1),maxpool(2),dense(256) on a CxHxW input.

    A residual block res(ITEM,...) is a Res module: y = relu(x + f(x)) with f = nn.Sequential of its items (each
    conv or dense followed by ReLU except the last), so its parameters are named f.{j}.weight as pathsgd's model files
    name them (with f's ReLUs counted in PyTorch's indices: pathsgd's j counts the layers with parameters only).
    """

    class Res(torch.nn.Module):
        def __init__(self, f):
            super().__init__()
            self.f = f

        def forward(self, x):
            return torch.relu(x + self.f(x))

    state = {"c": 0, "h": 0, "w": 0, "flat": None}
    state["c"], state["h"], state["w"] = (int(v) for v in shape.split("x"))

    def build(items, last_linear):
        layers = []
        # the canonical text of pathsgd's LayerSpec (BenchCommand passes it): lower case, no spaces, kernels K or
        # KHxKW, defaults left out; a bare "flatten" is no layer (a dense layer flattens its image input itself)
        for n, item in enumerate(items):
            kind, args = re.match(r"([a-z]+)\((.*)\)$", item).groups()
            relu = not (last_linear and n == len(items) - 1)
            if kind == "res":
                layers.append(Res(torch.nn.Sequential(*build(split_items(args), True))))
                continue
            pos = [a.strip() for a in args.split(",") if "=" not in a]
            kw = {k.strip(): int(v) for k, v in (a.split("=") for a in args.split(",") if "=" in a)}
            c, h, w = state["c"], state["h"], state["w"]
            if kind == "conv":
                kh, kw_ = (int(x) for x in pos[1].split("x")) if "x" in pos[1] else (int(pos[1]),) * 2
                s, p = kw.get("stride", 1), kw.get("pad", 0)
                layers.append(torch.nn.Conv2d(c, int(pos[0]), (kh, kw_), stride=s, padding=p))
                state["c"] = int(pos[0])
                state["h"] = (h + 2 * p - kh) // s + 1
                state["w"] = (w + 2 * p - kw_) // s + 1
            elif kind in ("maxpool", "avgpool"):
                k = int(pos[0])
                s = kw.get("stride", k)
                layers.append((torch.nn.MaxPool2d if kind == "maxpool" else torch.nn.AvgPool2d)(k, stride=s))
                state["h"] = (h - k) // s + 1
                state["w"] = (w - k) // s + 1
                relu = False
            elif kind == "dense":
                if state["flat"] is None:
                    layers.append(torch.nn.Flatten())
                    state["flat"] = c * h * w
                layers.append(torch.nn.Linear(state["flat"], int(pos[0])))
                state["flat"] = int(pos[0])
            else:
                raise SystemExit("unknown layer " + item)
            if relu:
                layers.append(torch.nn.ReLU())
        return layers

    layers = build(split_items(spec), False)
    if state["flat"] is None:
        layers.append(torch.nn.Flatten())
        state["flat"] = state["c"] * state["h"] * state["w"]
    layers.append(torch.nn.Linear(state["flat"], classes))
    return torch.nn.Sequential(*layers)


def blas_core():
    for name in ("libblas.so.3", "libopenblas.so.0", "libopenblasp-r0.3.21.so", ctypes.util.find_library("openblas") or ""):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except OSError:
            continue
        except AttributeError:
            continue
    return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="784-4000-4000-10")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--warmup-seconds", type=float, default=0.0)
    ap.add_argument("--warmup-cap-seconds", type=float, default=float("inf"))
    ap.add_argument("--min-seconds", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--optimizer", default="sgd", choices=["sgd", "sgd-momentum", "adagrad"])
    ap.add_argument("--layers", default=None, help="a conv net's layer list (instead of --arch)")
    ap.add_argument("--shape", default="3x32x32", help="the conv net's input CxHxW")
    ap.add_argument("--classes", type=int, default=10, help="the conv net's outputs")
    a = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
    import torch  # imported after the thread variables are set

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    if a.layers is not None:
        model = conv_net(torch, a.layers, a.shape, a.classes)
        x = torch.rand(a.batch, *(int(v) for v in a.shape.split("x")))
        y = torch.randint(0, a.classes, (a.batch,))
        a.arch = a.shape + ":" + a.layers
    else:
        widths = [int(w) for w in a.arch.split("-")]
        layers = []
        for i in range(len(widths) - 1):
            lin = torch.nn.Linear(widths[i], widths[i + 1])
            torch.nn.init.normal_(lin.weight, 0.0, widths[i] ** -0.5)
            torch.nn.init.zeros_(lin.bias)
            layers.append(lin)
            if i < len(widths) - 2:
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers)
        x = torch.rand(a.batch, widths[0])
        y = torch.randint(0, widths[-1], (a.batch,))
    if a.optimizer == "adagrad":
        opt = torch.optim.Adagrad(model.parameters(), lr=1e-4)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9 if a.optimizer == "sgd-momentum" else 0.0)
    loss_fn = torch.nn.CrossEntropyLoss()
    def step():
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return time.perf_counter() - t0

    warm, warm_s = 0, 0.0
    while (warm < a.warmup and warm_s < a.warmup_cap_seconds) or warm_s < a.warmup_seconds:
        warm_s += step()
        warm += 1
    times = []
    while len(times) < a.steps or sum(times) < a.min_seconds:
        times.append(step())
    ms = statistics.median(times) * 1e3
    print(json.dumps({"arch": a.arch, "batch": a.batch, "threads": a.threads, "optimizer": a.optimizer,
                      "ms_per_step": ms, "samples_per_s": a.batch / ms * 1e3, "torch": torch.__version__,
                      "blas_core": blas_core(),
                      "mkldnn": torch.backends.mkldnn.is_available(), "warmup_steps": warm, "timed_steps": len(times)}))


if __name__ == "__main__":
    main()
