#!/usr/bin/env python3
"""Writes Fashion-MNIST's IDX files out as PNG images in one folder per class, the layout that
`data.images` (torchvision's ImageFolder, Keras's image_dataset_from_directory) reads:

    OUT/train/0_T-shirt-top/00000.png, OUT/train/1_Trouser/…, …, OUT/test/…

Folder names start with the label, so their sorted order is the label order. Files are named by
their index in the IDX file. Only the Python standard library is used (gzip, zlib, struct).

usage: make_image_folder.py OUT [--data DIR] [--limit N] [--split train|test|both]
  --data   the four IDX files (default: $NEURONA_FASHION_MNIST or Debian's
           /usr/share/datasets/fashion-mnist, package dataset-fashion-mnist)
  --limit  at most N images per class and split (default 100; 0: all)
"""
import argparse
import gzip
import os
import struct
import sys
import zlib

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    """(dims, bytes) of an unsigned-byte IDX file, plain or gzip."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, kind, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = data[4 + 4 * ndim:]
    count = 1
    for d in dims:
        count *= d
    if len(body) != count:
        sys.exit(f"{path}: {len(body)} data bytes for dimensions {dims}")
    return dims, body


def find(dir_, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(dir_, name)
        if os.path.isfile(p):
            return p
    sys.exit(f"{dir_}: missing {stem} (or {stem}.gz)")


def png_gray(width, height, pixels):
    """An 8-bit grayscale PNG: signature, IHDR, one IDAT (filter 0 per row), IEND."""
    def chunk(tag, payload):
        return (struct.pack(">I", len(payload)) + tag + payload +
                struct.pack(">I", zlib.crc32(tag + payload) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def folder_name(label):
    return f"{label}_" + CLASSES[label].replace("/", "-").replace(" ", "-")


def write_split(data_dir, prefix, out, limit):
    dims, images = read_idx(find(data_dir, f"{prefix}-images-idx3-ubyte"))
    (n_labels,), labels = read_idx(find(data_dir, f"{prefix}-labels-idx1-ubyte"))
    n, h, w = dims
    if n != n_labels:
        sys.exit(f"{prefix}: {n} images but {n_labels} labels")
    written = [0] * len(CLASSES)
    for i in range(n):
        label = labels[i]
        if limit and written[label] >= limit:
            continue
        folder = os.path.join(out, folder_name(label))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{i:05d}.png"), "wb") as f:
            f.write(png_gray(w, h, images[i * h * w:(i + 1) * h * w]))
        written[label] += 1
        if limit and min(written) >= limit:
            break
    print(f"{out}: {sum(written)} images in {len(CLASSES)} class folders")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--data", default=os.environ.get("NEURONA_FASHION_MNIST")
                    or "/usr/share/datasets/fashion-mnist")
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--split", choices=["train", "test", "both"], default="both")
    a = ap.parse_args()
    if a.limit < 0:
        sys.exit("--limit must be 0 (all) or more")
    if a.split in ("train", "both"):
        write_split(a.data, "train", os.path.join(a.out, "train"), a.limit)
    if a.split in ("test", "both"):
        write_split(a.data, "t10k", os.path.join(a.out, "test"), a.limit)


if __name__ == "__main__":
    main()
