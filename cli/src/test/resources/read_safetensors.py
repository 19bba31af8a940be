"""An independent safetensors reader (the published format, json + numpy only), used by the tests.

Prints one line per tensor: name, dtype, shape, and the sum of its values.
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16}

with open(sys.argv[1], "rb") as f:
    raw = f.read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n].decode("utf-8"))
data = raw[8 + n:]
meta = header.pop("__metadata__", {})
assert all(isinstance(v, str) for v in meta.values()), "metadata values must be strings"
end_max = 0
for name in sorted(header):
    t = header[name]
    begin, end = t["data_offsets"]
    arr = np.frombuffer(data[begin:end], dtype=np.dtype(DTYPES[t["dtype"]]).newbyteorder("<")).reshape(t["shape"])
    end_max = max(end_max, end)
    print(f"{name} {t['dtype']} {list(arr.shape)} {float(arr.astype(np.float64).sum()):.9g}")
assert end_max == len(data), "data section has trailing or missing bytes"
