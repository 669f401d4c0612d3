"""Fashion-MNIST and MNIST: find the IDX files, download them, or use the embedded subset.

Where the files are looked for, in order (the first folder holding both the image
and the label file of the split wins)::

    1. $MINIGEN_DATA/<name>/   and   $MINIGEN_DATA/
    2. the user cache          ~/.cache/minigen/<name>/   ($XDG_CACHE_HOME is honoured)
    3. a system folder         /usr/share/datasets/fashion-mnist/  (Debian's dataset-fashion-mnist)
    4. download into the cache from the dataset's own address, checked by SHA-256
    5. Fashion-MNIST only: the small class-balanced subset shipped inside the package

``source="auto"`` (the default) walks that list; ``source="files"`` stops with an error
instead of falling back to the embedded subset; ``source="embedded"`` goes straight to it.
Setting ``MINIGEN_OFFLINE=1`` (or true/yes/on) skips step 4.

An explicit ``root=`` replaces that search: the files must be in that folder (plain or
gzipped), or the data set fails naming the missing ones; it never loads another copy.

A dataset holds ``images`` (N, 28, 28) uint8 and ``labels`` (N,) int64, exactly as
published; scaling and binarising are separate functions (``minigen.data.transforms``).
"""
from __future__ import annotations

import os
import sys

import numpy as np

from .download import ChecksumError, DownloadError, cache_dir, download, offline
from .idx import read_idx

__all__ = ["FashionMNIST", "MNIST", "ImageDataset", "EMBEDDED_PATH", "FASHION_MNIST_CLASSES"]

_HERE = os.path.dirname(os.path.abspath(__file__))
EMBEDDED_PATH = os.path.join(_HERE, "fashion_mnist_subset.npz")

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


class ImageDataset:
    """An image classification data set: ``images`` (N, H, W) uint8 and ``labels`` (N,) int64.

    ``len(ds)`` is N and ``ds[i]`` (an int, slice or index array) returns
    ``(images[i], labels[i])``, which is all :class:`~minigen.data.DataLoader` needs.
    """

    #: folder name under $MINIGEN_DATA and the cache
    name = "images"
    classes: tuple = ()
    #: ``ds[index_array]`` gives a whole batch at once (the DataLoader uses one call)
    batch_indexing = True

    def __init__(self, images: np.ndarray, labels: np.ndarray, source: str = "arrays", *,
                 transform=None, target_transform=None):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images = images
        self.labels = labels.astype(np.int64)
        #: where the data came from (a folder, or "embedded subset ...")
        self.source = source
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index):
        """``(image, label)`` of one index, or the batch of an index array / slice, with
        ``transform`` / ``target_transform`` applied (as in torchvision's data sets; the
        transforms of ``minigen.data.transforms`` take one image or a batch alike)."""
        images, labels = self.images[index], self.labels[index]
        if self.transform is not None:
            images = self.transform(images)
        if self.target_transform is not None:
            labels = self.target_transform(labels)
        return images, labels

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({len(self)} images {self.images.shape[1:]}, "
                f"source={self.source!r})")


class _IDXDataset(ImageDataset):
    """Shared lookup / download logic; subclasses fill in the class attributes."""

    #: split -> (image file, its SHA-256, label file, its SHA-256) as published (gzip)
    FILES: dict = {}
    #: base addresses tried in order; the file name is appended
    MIRRORS: tuple = ()
    #: extra read-only folders searched after the cache (distribution packages)
    SYSTEM_DIRS: tuple = ()
    #: the shipped fallback (None: there is none)
    EMBEDDED: str | None = None

    def __init__(self, split: str = "train", *, source: str = "auto",
                 root: str | None = None, base_url: str | None = None,
                 verbose: bool = True, transform=None, target_transform=None,
                 train: bool | None = None):
        if train is not None:                # torchvision's spelling: train=True / False
            split = "train" if train else "test"
        if split not in self.FILES:
            raise ValueError(f"split must be one of {sorted(self.FILES)}, got {split!r} (if "
                             f"that is a folder, as torchvision's first argument: write "
                             f"{type(self).__name__}(root={split!r}, train=True))")
        if source not in ("auto", "files", "embedded"):
            raise ValueError(f"source must be 'auto', 'files' or 'embedded', got {source!r}")
        self.split = split
        self._download_error = None

        if source == "embedded" and root is not None:
            raise ValueError("root= names a folder of files, source='embedded' asks for the "
                             "shipped subset: give one of them")
        if source == "embedded":
            images, labels, where = self._load_embedded(split)
        else:
            folder = self._find(split, root)
            if folder is None:
                folder = self._try_download(split, base_url, strict=(source == "files"),
                                            verbose=verbose)
            if folder is not None:
                images, labels = self._load_folder(folder, split)
                where = folder
            elif source == "auto" and self.EMBEDDED is not None:
                images, labels, where = self._load_embedded(split)
                if verbose:
                    why = "download failed" if self._download_error else "offline"
                    print(f"minigen: using the embedded {len(images)}-image {self.name} {split} "
                          f"subset (full files not found, {why}; set MINIGEN_DATA or see "
                          f"minigen.data)", file=sys.stderr)
            else:
                raise FileNotFoundError(self._not_found_message(split, root))
        super().__init__(images, labels, where, transform=transform,
                         target_transform=target_transform)

    # -- where to look -------------------------------------------------------------
    @classmethod
    def search_dirs(cls, root: str | None = None) -> list[str]:
        """The folders searched, in order (``root`` first when given)."""
        dirs = []
        if root:
            dirs.append(root)
        env = os.environ.get("MINIGEN_DATA")
        if env:
            dirs += [os.path.join(env, cls.name), env]
        dirs.append(cache_dir(cls.name))
        dirs += list(cls.SYSTEM_DIRS)
        return dirs

    @classmethod
    def _file_in(cls, folder: str, gz_name: str) -> str | None:
        """``gz_name`` or its un-gzipped twin inside ``folder``, if either exists."""
        for name in (gz_name, gz_name[:-3] if gz_name.endswith(".gz") else gz_name):
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
        return None

    def _find(self, split: str, root: str | None) -> str | None:
        image_file, _, label_file, _ = self.FILES[split]
        if root is not None:
            missing = [name for name in (image_file, label_file) if not self._file_in(root, name)]
            if missing:
                where = "does not exist" if not os.path.isdir(root) else "lacks " + " and ".join(
                    f"{name} (or {name[:-3]})" for name in missing)
                raise FileNotFoundError(
                    f"{self.name} {split}: root={root!r} {where}; an explicit root must hold "
                    f"{image_file} and {label_file}. Put them there, or leave root out to "
                    f"search {', '.join(self.search_dirs()[:2])}, ... and download.")
            return root
        for folder in self.search_dirs(root):
            if self._file_in(folder, image_file) and self._file_in(folder, label_file):
                return folder
        return None

    def _try_download(self, split: str, base_url: str | None, strict: bool,
                      verbose: bool) -> str | None:
        """Download the split into the cache; on a network failure return None (or raise
        when ``strict``).  A checksum mismatch always raises: those bytes are not the data."""
        mirrors = [base_url] if base_url else list(self.MIRRORS)
        if offline() and not base_url:
            mirrors = []
        if not mirrors:
            return None
        folder = cache_dir(self.name)
        image_file, image_sha, label_file, label_sha = self.FILES[split]
        errors = []
        for mirror in mirrors:
            try:
                for name, sha in ((image_file, image_sha), (label_file, label_sha)):
                    dest = os.path.join(folder, name)
                    if not os.path.isfile(dest):
                        download(mirror.rstrip("/") + "/" + name, dest, sha, quiet=not verbose)
                return folder
            except ChecksumError:
                raise                       # wrong bytes: never fall back silently
            except DownloadError as err:    # network trouble: try the next mirror
                errors.append(str(err))
        if strict:
            raise DownloadError(f"{self.name} {split}: every mirror failed:\n  " +
                                "\n  ".join(errors))
        self._download_error = errors[-1]
        return None

    def _not_found_message(self, split: str, root: str | None) -> str:
        image_file, _, label_file, _ = self.FILES[split]
        looked = "\n  ".join(self.search_dirs(root))
        return (f"{self.name} {split} split: {image_file} and {label_file} not found in\n  "
                f"{looked}\nand could not be downloaded. Put the files in one of those "
                f"folders or set MINIGEN_DATA.")

    # -- reading -------------------------------------------------------------------
    def _load_folder(self, folder: str, split: str):
        image_file, _, label_file, _ = self.FILES[split]
        images = read_idx(self._file_in(folder, image_file), expect_shape=(None, 28, 28))
        labels = read_idx(self._file_in(folder, label_file), expect_shape=(None,))
        if len(images) != len(labels):
            raise ValueError(f"{folder}: {len(images)} images but {len(labels)} labels")
        return images, labels

    def _load_embedded(self, split: str):
        if self.EMBEDDED is None:
            raise FileNotFoundError(f"{self.name} has no embedded subset")
        with np.load(self.EMBEDDED) as z:
            images, labels = z[f"{split}_images"], z[f"{split}_labels"]
        total = int(60000 if split == "train" else 10000)
        return images, labels, f"embedded subset ({len(images)} of {total} {split} images)"

    @property
    def is_embedded(self) -> bool:
        """True when this is the small shipped subset, not the full split."""
        return self.source.startswith("embedded")


class FashionMNIST(_IDXDataset):
    """Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 28x28 grey clothes, 10 classes, MIT licence.

    60,000 training and 10,000 test images.  Without the files, ``source="auto"`` uses
    the embedded subset: 3,000 training and 1,000 test images, class-balanced.
    torchvision's spelling works too: ``FashionMNIST(root=d, train=False, transform=tf)``
    (an explicit ``root`` must hold the files; downloads go to the user cache).
    """

    name = "fashion-mnist"
    classes = FASHION_MNIST_CLASSES
    FILES = {
        "train": ("train-images-idx3-ubyte.gz",
                  "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
                  "train-labels-idx1-ubyte.gz",
                  "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc"),
        "test": ("t10k-images-idx3-ubyte.gz",
                 "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
                 "t10k-labels-idx1-ubyte.gz",
                 "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf"),
    }
    MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",)
    SYSTEM_DIRS = ("/usr/share/datasets/fashion-mnist",)   # Debian: dataset-fashion-mnist
    EMBEDDED = EMBEDDED_PATH


class MNIST(_IDXDataset):
    """MNIST handwritten digits (LeCun et al. 1998), read the same way; no embedded subset."""

    name = "mnist"
    classes = tuple(str(d) for d in range(10))
    FILES = {
        "train": ("train-images-idx3-ubyte.gz",
                  "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                  "train-labels-idx1-ubyte.gz",
                  "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        "test": ("t10k-images-idx3-ubyte.gz",
                 "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                 "t10k-labels-idx1-ubyte.gz",
                 "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    }
    # yann.lecun.com now often refuses scripts; these mirrors serve the identical files
    MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist",
               "https://storage.googleapis.com/cvdf-datasets/mnist")
