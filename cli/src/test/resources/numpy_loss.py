"""The mean cross-entropy of a PyTorch-style nn.Sequential model (safetensors, any float dtype) on the test split of a
Keras-layout .npz, in float64 with NumPy alone: the oracle of InitModelCliTest. Prints the loss with repr."""
import json
import struct
import sys

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2"}


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).astype(np.float64)
    return out


def main(model, npz):
    tensors = load_safetensors(model)
    modules = sorted({int(k.split(".")[0]) for k in tensors})
    d = np.load(npz)
    h = d["x_test"].reshape(len(d["x_test"]), -1).astype(np.float64)
    y = d["y_test"].astype(np.int64)
    for i, m in enumerate(modules):
        h = h @ tensors[f"{m}.weight"].T + tensors[f"{m}.bias"]
        if i < len(modules) - 1:
            h = np.maximum(h, 0.0)  # nn.ReLU between the Linear layers
    top = h.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(h - top).sum(axis=1))
    print(repr(float(np.mean(lse - h[np.arange(len(y)), y]))))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
