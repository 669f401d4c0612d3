"""DataLoader: batches, seeded shuffling, drop_last, and tensors on the right device.

Reproducibility is by construction: the order of epoch ``e`` and the random numbers
handed to the transform for batch ``b`` of epoch ``e`` are pure functions of
``(seed, e, b)`` (NumPy ``SeedSequence`` mixes them).  So the loader's whole state is
three integers, ``{seed, epoch, batch}``; a run resumed from a checkpoint sees exactly
the batches, bit for bit, it would have seen without the interruption.
"""
from __future__ import annotations

import math

import numpy as np

from minigen import _checks

__all__ = ["DataLoader", "ArrayDataset"]


class ArrayDataset:
    """Several arrays sharing their first axis, indexed together: ``ds[i] -> (a[i], b[i], ...)``."""

    #: ``ds[index_array]`` gives a whole batch at once (the DataLoader uses one call)
    batch_indexing = True

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("ArrayDataset needs at least one array")
        n = len(arrays[0])
        for a in arrays:
            if len(a) != n:
                raise ValueError(f"arrays differ in length: {[len(a) for a in arrays]}")
        self.arrays = arrays

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)


def _stack(values):
    """PyTorch's default collate for one field: samples (arrays, numbers, Tensors) -> an array."""
    return np.stack([np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in values])


def _to_tensor(array, device):
    """A NumPy batch -> a minigen Tensor on ``device`` (``device=None``: keep the array)."""
    if device is None:
        return array
    import minigen                       # lazy: minigen.data must import without the engine
    return minigen.tensor(array, device=device)


class DataLoader:
    """Iterate over a data set in mini-batches; PyTorch's signature and defaults.

    ``DataLoader(dataset, batch_size=1, shuffle=False, num_workers=0, pin_memory=False,
    drop_last=False, seed=0, device="cpu", transform=None)``

    Parameters
    ----------
    dataset : an array, a tuple of arrays, a minigen data set (``ArrayDataset``,
        ``FashionMNIST``: one fancy-indexing call per batch), or any object with ``len``
        and ``ds[i]`` returning one sample (a PyTorch-style ``Dataset``): then the
        samples are fetched one by one and stacked, field by field, like PyTorch's
        default collate.
    batch_size : rows per batch (an integer >= 1).
    shuffle : a fresh random order every epoch (seeded); off unless asked, as in PyTorch.
    num_workers, pin_memory : accepted for PyTorch code and ignored: batches are made
        in this process (the arrays are in memory already), and CuPy copies need no
        pinned buffer.
    drop_last : skip the final short batch (GANs and batch norm dislike tiny batches).
    seed : seeds the order and the transform's random numbers (0 .. 2**64 - 1).
    device : ``"cpu"`` or ``"cuda"``: batches become minigen Tensors there;
        ``None`` yields the NumPy arrays themselves.
    transform : optional ``f(x, rng) -> x`` applied to the first array of each batch
        (the inputs) before it becomes a tensor; ``rng`` is a NumPy Generator unique
        to this batch, e.g. ``transform=binarize_dynamic``.  (Per-sample transforms in
        torchvision's style belong to the data set: ``FashionMNIST(transform=...)``.)

    Each ``for batch in loader`` runs the rest of the current epoch and yields a tuple
    of tensors (or one tensor when the data is a single array).
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, *,
                 num_workers: int = 0, pin_memory: bool = False, drop_last: bool = False,
                 seed: int = 0, device: str | None = "cpu", transform=None):
        self.batch_size = _checks.positive_int(batch_size, "DataLoader: batch_size")
        self.seed = _checks.seed_value(seed, "DataLoader: seed")
        self.num_workers = _checks.non_negative_int(num_workers, "DataLoader: num_workers")
        self.pin_memory = bool(pin_memory)
        if isinstance(dataset, np.ndarray):
            dataset, self._single = ArrayDataset(dataset), True
        elif isinstance(dataset, (tuple, list)):
            dataset, self._single = ArrayDataset(*dataset), False
        else:                                # one sample says: a tuple, or a single field
            self._single = len(dataset) > 0 and not isinstance(dataset[0], tuple)
        self.dataset = dataset
        self._by_batch = getattr(dataset, "batch_indexing", False)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.device = device
        self.transform = transform
        # the position: the next batch to yield is batch `batch` of epoch `epoch`
        self.epoch = 0
        self.batch = 0
        if len(self) == 0:                   # every epoch would be empty: nothing would train
            n = len(self.dataset)
            raise ValueError("DataLoader: the data set is empty" if n == 0 else
                             f"DataLoader: drop_last=True with batch_size={self.batch_size} "
                             f"larger than the {n} samples: every epoch would be empty "
                             f"(use a smaller batch or drop_last=False)")

    def __len__(self) -> int:
        """Batches per epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _rng(self, *key: int) -> np.random.Generator:
        """A Generator determined by (seed, *key) alone."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, *key]))

    def order(self, epoch: int) -> np.ndarray:
        """The index order of ``epoch`` (a permutation when shuffling)."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return self._rng(0, epoch).permutation(n)     # stream 0: orders, stream 1: transforms

    def __iter__(self):
        if self.batch >= len(self):          # nothing left of this epoch: start the next
            self.epoch, self.batch = self.epoch + 1, 0
            return
        epoch, order = self.epoch, self.order(self.epoch)
        for b in range(self.batch, len(self)):
            index = order[b * self.batch_size:(b + 1) * self.batch_size]
            arrays = self._fetch(index)
            if self.transform is not None:
                first = self.transform(arrays[0], self._rng(1, epoch, b))
                arrays = (first, *arrays[1:])
            # advance the position *before* yielding: a checkpoint written while the
            # caller works on this batch must resume with the next one
            if b + 1 == len(self):
                self.epoch, self.batch = epoch + 1, 0
            else:
                self.batch = b + 1
            tensors = tuple(_to_tensor(a, self.device) for a in arrays)
            yield tensors[0] if self._single else tensors

    def _fetch(self, index):
        """The batch of rows ``index``: one indexing call, or sample by sample + collate."""
        if self._by_batch:
            return self.dataset[index]
        samples = [self.dataset[int(i)] for i in index]
        if self._single:
            return (_stack(samples),)
        return tuple(_stack(field) for field in zip(*samples))

    def forever(self):
        """Yield batches endlessly, epoch after epoch (for step-counted training)."""
        while True:
            yield from self

    # -- checkpointing --------------------------------------------------------------
    def state_dict(self) -> dict:
        """The position (seed, epoch, batch) and what gives it its meaning (the batch
        size, the data set's length, shuffle, drop_last), checked on loading."""
        return {"seed": self.seed, "epoch": self.epoch, "batch": self.batch,
                "batch_size": self.batch_size, "length": len(self.dataset),
                "shuffle": self.shuffle, "drop_last": self.drop_last}

    def load_state_dict(self, state: dict) -> None:
        """Continue from a saved position; a position saved with another batch size, data
        set length, shuffle or drop_last would mean other batches, so it is refused
        (ValueError naming the setting).  The seed is part of the position and is taken."""
        now = {"batch_size": self.batch_size, "length": len(self.dataset),
               "shuffle": self.shuffle, "drop_last": self.drop_last}
        changed = [f"{name} {state[name]!r} when saved, {value!r} now"
                   for name, value in now.items() if name in state and state[name] != value]
        if changed:
            raise ValueError("the DataLoader position was saved with other settings: "
                             + "; ".join(changed) + " (the saved batch number would point "
                             "at other data)")
        self.seed = int(state["seed"])
        self.epoch = int(state["epoch"])
        self.batch = int(state["batch"])
