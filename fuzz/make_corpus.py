#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/): valid files of each format
plus the bad cases the test suite checks. Run from the repository's root after a Release build (build/neurona writes the event-file
seeds):  python3 fuzz/make_corpus.py
Files found by fuzzing (crashes turned regression cases) are added by hand beside these and kept."""
import ctypes, glob, gzip, os, struct, subprocess, sys, tempfile, zlib


root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
corpus = os.path.join(root, "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# CSV: the first byte picks the reading options (fuzz/csv.cpp).
csvs = {
    "numeric": "a,b,y\n1,2,0\n3,4,1\n5.5,-6e2,0\n",
    "categorical": "c,x,y\nred,1,a\nblue,2,b\nred,3,a\n",
    "quoted": 'name,x,y\n"a, b",1,0\n"say ""hi""",2,1\n',
    "semicolon": "a;b;y\n1,5;2;0\n3;4;1\n",
    "tabs": "a\tb\ty\n1\t2\t0\n",
    "missing": "a,b,y\n1,,0\n,4,1\n5,6,\n",
    "ragged": "a,b,y\n1,2\n3,4,5,6\n",
    "crlf_bom": "\ufeffa,b,y\r\n1,2,0\r\n3,4,1\r\n",
    "unterminated_quote": 'a,y\n"1,0\n',
    "nan_inf": "a,b,y\nnan,inf,0\n-inf,1e400,1\n",
    "empty_header": "\n1,2\n",
}
for i, (name, text) in enumerate(csvs.items()):
    for pick in (0x01, 0x03 + 8 * (i % 3)):
        put("csv", f"{name}_{pick:02x}", bytes([pick]) + text.encode())

# Configs: every example, then bad ones (duplicate keys, NaN, unknown keys, wrong types).
for path in sorted(glob.glob(os.path.join(root, "examples", "*.yaml"))):
    put("config", os.path.basename(path), open(path, "rb").read())
bad_configs = {
    "duplicate_key.yaml": "fit:\n  epochs: 2\n  epochs: 3\n",
    "nan.yaml": "compile:\n  optimizer: {sgd: {lr: .nan}}\n",
    "unknown_key.yaml": "fit:\n  epoch: 2\n",
    "wrong_type.yaml": "fit:\n  epochs: [1, 2]\n",
    "json.yaml": '{"model": {"layers": [{"dense": {"units": 3}}]}, "fit": {"epochs": 1}}',
    "schedule.yaml": "compile:\n  optimizer: {adam: {lr: 0.01}}\n  loss: mse\n  schedule: {step: {step_size: 2, gamma: 0.5}}\n"
                     "  interval: step\n  frequency: 2\ncallbacks:\n  - early_stopping: {patience: 3}\n",
    "anchors.yaml": "a: &x {epochs: 1}\nfit: *x\n",
    "deep.yaml": "[" * 200 + "]" * 200,
    "tab.yaml": "fit:\n\tepochs: 1\n",
}
for name, text in bad_configs.items():
    put("config", name, text)

# safetensors: the test fixtures, then headers that lie.
for path in sorted(glob.glob(os.path.join(root, "tests", "fixtures", "io", "*.safetensors"))):
    put("safetensors", os.path.basename(path), open(path, "rb").read())


def safetensors(header, data=b""):
    h = header.encode()
    return struct.pack("<Q", len(h)) + h + data


put("safetensors", "one_f32", safetensors('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', b"\0" * 8))
put("safetensors", "metadata", safetensors('{"__metadata__":{"format":"pt"},"b":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}', b"\1" + b"\0" * 7))
put("safetensors", "huge_shape", safetensors('{"w":{"dtype":"F32","shape":[1152921504606846976],"data_offsets":[0,8]}}', b"\0" * 8))
put("safetensors", "huge_header_len", struct.pack("<Q", 1 << 60) + b"{}")
put("safetensors", "offsets_past_end", safetensors('{"w":{"dtype":"F16","shape":[4],"data_offsets":[0,800]}}', b"\0" * 8))
put("safetensors", "bf16", safetensors('{"w":{"dtype":"BF16","shape":[2,1],"data_offsets":[0,4]}}', b"\x80\x3f\x00\x40"))

# .npy: the test fixtures, then bad headers.
for path in sorted(glob.glob(os.path.join(root, "tests", "data", "fixtures", "*.npy"))):
    put("npy", os.path.basename(path), open(path, "rb").read())


def npy(header, data=b""):
    h = header + " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data


put("npy", "huge_shape", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1152921504606846976,), }", b"\0" * 16))
put("npy", "short_data", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", b"\0" * 16))
put("npy", "bool", npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b"\1\0\1"))
put("npy", "bad_descr", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", b"\0" * 8))
put("npy", "scalar", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", b"\0" * 8))

# IDX: small images and labels, plain and gzip; then bad dimensions.
images = struct.pack(">IIII", 0x803, 2, 3, 3) + bytes(range(18))
labels = struct.pack(">II", 0x801, 2) + b"\x03\x07"
floats = struct.pack(">IIII", 0x0D03, 1, 2, 2) + struct.pack(">4f", 1, 2, 3, 4)
for name, data in {"images": images, "labels": labels, "floats": floats}.items():
    put("idx", name, data)
    put("idx", name + ".gz", gzip.compress(data, mtime=0))
put("idx", "huge_dims", struct.pack(">IIIII", 0x803, 0x40000000, 0x40000000, 0x40000000, 0) + b"\0" * 16)
put("idx", "short", struct.pack(">IIII", 0x803, 10, 28, 28) + b"\0" * 10)
put("idx", "truncated.gz", gzip.compress(images, mtime=0)[:20])


# PNG and JPEG images, colour and gray, from torchvision's encoders; then truncated ones.
def png(width, height, color_type, bit_depth, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


put("image", "rgb.png", png(2, 2, 2, 8, [bytes([255, 0, 0, 0, 255, 0]), bytes([0, 0, 255, 9, 9, 9])]))
put("image", "gray.png", png(3, 1, 0, 8, [bytes([0, 128, 255])]))
put("image", "rgba16.png", png(1, 1, 6, 16, [bytes(8)]))
put("image", "palette_missing_plte.png", png(1, 1, 3, 8, [bytes([0])]))
put("image", "truncated.png", png(2, 2, 2, 8, [bytes(6), bytes(6)])[:40])
def jpeg(width, height, gray, quality):
    """A JPEG of a gradient, encoded by TurboJPEG (libturbojpeg0-dev, which Neurona links) via ctypes."""
    tj = ctypes.CDLL("libturbojpeg.so.0")
    tj.tjInitCompress.restype = ctypes.c_void_p
    handle = ctypes.c_void_p(tj.tjInitCompress())
    channels = 1 if gray else 3
    pixels = bytes((i * 7) % 251 for i in range(width * height * channels))
    out, size = ctypes.POINTER(ctypes.c_ubyte)(), ctypes.c_ulong(0)
    TJPF_RGB, TJPF_GRAY, TJSAMP_420, TJSAMP_GRAY = 0, 6, 2, 3
    rc = tj.tjCompress2(handle, pixels, width, 0, height, TJPF_GRAY if gray else TJPF_RGB, ctypes.byref(out),
                        ctypes.byref(size), TJSAMP_GRAY if gray else TJSAMP_420, quality, 0)
    if rc != 0:
        sys.exit("make_corpus.py: TurboJPEG could not encode the JPEG seeds")
    data = ctypes.string_at(out, size.value)
    tj.tjFree(out)
    tj.tjDestroy(handle)
    return data


rgb = jpeg(16, 8, False, 90)
put("image", "rgb.jpg", rgb)
put("image", "gray.jpg", jpeg(8, 8, True, 50))
put("image", "truncated.jpg", rgb[: len(rgb) // 2])
put("image", "bmp", b"BM" + bytes(60))

# ONNX: the test fixtures and small models of ONNX's own test data; then a truncated one.
for path in sorted(glob.glob(os.path.join(root, "tests", "fixtures", "onnx", "*.onnx"))):
    put("onnx", os.path.basename(path), open(path, "rb").read())
    put("onnx", "truncated_" + os.path.basename(path), open(path, "rb").read()[:700])
for op in ("relu", "gemm_default_no_bias", "conv_with_strides_padding", "maxpool_2d_default", "softmax_axis_1",
           "flatten_axis1", "batchnorm_example", "averagepool_2d_default", "sigmoid", "add"):
    path = f"/usr/share/libonnx-testdata/data/node/test_{op}/model.onnx"
    if os.path.exists(path):
        put("onnx", op + ".onnx", open(path, "rb").read())

# Event files: a short training run's TensorBoard file, then a torn and a corrupted copy.
neurona = os.path.join(root, "build", "neurona")
if not os.path.exists(neurona):
    sys.exit("make_corpus.py: build/neurona (a Release build) writes the event-file seeds")
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([neurona, "train", os.path.join(root, "examples", "binary_classification.yaml"),
                    "--set", "fit.epochs=2", "--set", f"logging.dir={tmp}", "--set", "fit.verbose=0"],
                   check=True, stdout=subprocess.DEVNULL, cwd=root)
    events = sorted(glob.glob(os.path.join(tmp, "**", "events.out.tfevents.*"), recursive=True))
    if not events:
        sys.exit("make_corpus.py: the training run wrote no event file")
    data = open(events[0], "rb").read()
    head = data[:4096]
    put("event_file", "run", head)
    put("event_file", "torn", head[: len(head) - 7])
    flipped = bytearray(head)
    flipped[len(flipped) // 2] ^= 0xFF
    put("event_file", "bad_crc", bytes(flipped))
    put("event_file", "huge_length", struct.pack("<Q", 1 << 62) + b"\0" * 12)

# Web requests: one per route ("{sid}" is the fuzz target's Playground session), then bad ones.
def request(method, path, body=None, content_type="application/json", extra=""):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
    if body is None:
        return head + "\r\n"
    return head + f"Content-Type: {content_type}\r\nContent-Length: {len(body.encode())}\r\n\r\n{body}"


playground = '{"problem": "classification", "dataset": "spiral", "networkShape": [4, 2], "activation": "tanh", ' \
             '"learningRate": 0.03, "regularization": "L2", "regularizationRate": 0.001, "noise": 10, ' \
             '"batchSize": 10, "features": ["x", "y", "sinX"]}'
web = {
    "index": request("GET", "/"),
    "static": request("GET", "/static/app.js"),
    "health": request("GET", "/api/health"),
    "health_param": request("GET", "/api/health?x=1"),
    "playground_new": request("POST", "/api/playground", playground),
    "state": request("GET", "/api/playground/{sid}/state?from=3&points=1"),
    "config": request("POST", "/api/playground/{sid}/config", playground),
    "step": request("POST", "/api/playground/{sid}/control", '{"action": "step"}'),
    "reset": request("POST", "/api/playground/{sid}/control", '{"action": "reset"}'),
    "weight": request("POST", "/api/playground/{sid}/weight", '{"layer": 0, "to": 1, "from": 0, "value": 0.5}'),
    "csv": request("POST", "/api/playground/{sid}/csv", "x,y,label\n0.1,0.2,1\n-0.3,0.5,0\n", "text/csv"),
    "export_yaml": request("GET", "/api/playground/{sid}/export/config.yaml"),
    "export_weights": request("GET", "/api/playground/{sid}/export/weights.safetensors"),
    "explorer_1d": request("POST", "/api/explorer/1d", '{"curve": "double-well", "lr": 0.1, "steps": 20, "start": 2}'),
    "explorer_race": request("POST", "/api/explorer/race", '{"surface": "rosenbrock", "steps": 30}'),
    "runs": request("GET", "/api/runs"),
    "run": request("GET", "/api/run?path=run1"),
    "run_escape": request("GET", "/api/run?path=../../etc"),
    "logs": request("GET", "/logs/run1/history.csv"),
    "form": request("POST", "/api/explorer/1d", "lr=1", "application/x-www-form-urlencoded"),
    "bad_json": request("POST", "/api/explorer/race", '{"surface": '),
    "chunked": "POST /api/explorer/1d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"lr\"\r\n0\r\n\r\n",
    "pipelined": request("GET", "/api/health") + request("GET", "/api/runs"),
    "huge_length": "POST /api/explorer/1d HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{}",
    "delete": request("DELETE", "/api/playground/1-1"),
}
for name, text in web.items():
    put("web", name, text)
print("fuzz corpora written to", corpus)
