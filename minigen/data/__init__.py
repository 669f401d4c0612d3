"""Data for the demos: Fashion-MNIST / MNIST (IDX files, download, embedded subset),
seeded 2-D toy distributions, image transforms (functions, and torchvision-style
``transforms.Compose`` / ``ToTensor`` / ``Normalize`` / ``Lambda`` / ``Pad``) and a
reproducible DataLoader with PyTorch's signature.

    from minigen.data import FashionMNIST, DataLoader, to_unit
    train = FashionMNIST("train")            # full files if found, else the embedded subset
    loader = DataLoader((to_unit(train.images), train.labels), batch_size=128, shuffle=True, seed=0)
    for x, y in loader: ...

Getting the full Fashion-MNIST: ``apt-get install dataset-fashion-mnist`` (Debian/Ubuntu),
or put the four ``*-ubyte.gz`` files in ``$MINIGEN_DATA`` (or ``~/.cache/minigen/fashion-mnist``),
or let ``FashionMNIST()`` download them (SHA-256 checked; ``MINIGEN_OFFLINE=1`` forbids it).
"""
from .datasets import EMBEDDED_PATH, FASHION_MNIST_CLASSES, MNIST, FashionMNIST, ImageDataset
from .download import ChecksumError, DownloadError, cache_dir, download, sha256_of
from .idx import IDXError, read_idx, write_idx
from .loader import ArrayDataset, DataLoader
from .toy2d import (TOY_2D_NAMES, Checkerboard, ConcentricRings, GaussianMixture2D, SwissRoll,
                    Toy2D, TwoMoons, eight_gaussians, toy_2d, twenty_five_gaussians)
from . import transforms
from .transforms import (add_channel, binarize, binarize_dynamic, from_symmetric, pad_to_32,
                         to_symmetric, to_unit)

__all__ = [
    "FashionMNIST", "MNIST", "ImageDataset", "FASHION_MNIST_CLASSES", "EMBEDDED_PATH",
    "download", "sha256_of", "cache_dir", "DownloadError", "ChecksumError",
    "read_idx", "write_idx", "IDXError",
    "DataLoader", "ArrayDataset",
    "toy_2d", "TOY_2D_NAMES", "Toy2D", "GaussianMixture2D", "eight_gaussians",
    "twenty_five_gaussians", "ConcentricRings", "TwoMoons", "SwissRoll", "Checkerboard",
    "to_unit", "to_symmetric", "from_symmetric", "binarize", "binarize_dynamic", "pad_to_32",
    "add_channel", "transforms",
]
