"""Regenerate minigen/data/fashion_mnist_subset.npz, the Fashion-MNIST subset shipped in the package.

It takes a class-balanced random subset of each split, ``--train-per-class`` and
``--test-per-class`` images per class (seeded, so the file is reproducible), from the
full IDX files, e.g. Debian's ``dataset-fashion-mnist``::

    python scripts/make_embedded_subset.py --src /usr/share/datasets/fashion-mnist

Both splits are embedded so that ``FashionMNIST("train")`` and ``FashionMNIST("test")``
stay disjoint when only the subset is available.  The original indices are stored
too (``train_index``, ``test_index``): anyone holding the full files can check every
image.  Fashion-MNIST is MIT-licensed (Zalando SE); its licence is copied next to it.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minigen.data.idx import read_idx  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(REPO, "minigen", "data", "fashion_mnist_subset.npz")

FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}

LICENSE = """\
The file fashion_mnist_subset.npz in this folder holds a subset of Fashion-MNIST
(https://github.com/zalandoresearch/fashion-mnist), by Han Xiao, Kashif Rasul and
Roland Vollgraf, Zalando Research, distributed under the following licence.

The MIT License (MIT) Copyright © 2017 Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the “Software”), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED “AS IS”, WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def balanced_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """``per_class`` random indices of every class, returned in the original order."""
    chosen = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
              for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default="/usr/share/datasets/fashion-mnist",
                        help="folder with the four Fashion-MNIST IDX files")
    parser.add_argument("--train-per-class", type=int, default=300)
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    arrays = {}
    for split, per_class in (("train", args.train_per_class), ("test", args.test_per_class)):
        image_file, label_file = FILES[split]
        images = read_idx(os.path.join(args.src, image_file), expect_shape=(None, 28, 28))
        labels = read_idx(os.path.join(args.src, label_file), expect_shape=(None,))
        index = balanced_indices(labels, per_class, rng)
        arrays[f"{split}_images"] = images[index]
        arrays[f"{split}_labels"] = labels[index].astype(np.uint8)
        arrays[f"{split}_index"] = index.astype(np.int32)
        print(f"{split}: {len(index)} images, {per_class} per class")

    np.savez_compressed(args.out, **arrays)
    with open(os.path.join(os.path.dirname(args.out), "LICENSE.fashion-mnist"), "w",
              encoding="utf-8") as f:
        f.write(LICENSE)
    print(f"wrote {os.path.normpath(args.out)} ({os.path.getsize(args.out) / 2**20:.2f} MiB)")


if __name__ == "__main__":
    main()
