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

__all__ = ["DataLoader", "ArrayDataset"]


class ArrayDataset:
    """Several arrays sharing their first axis, indexed together: ``ds[i] -> (a[i], b[i], ...)``."""

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


def _to_tensor(array, device):
    """A NumPy batch -> a minigen Tensor on ``device`` (``device=None``: keep the array)."""
    if device is None:
        return array
    import minigen                       # lazy: minigen.data must import without the engine
    return minigen.tensor(array, device=device)


class DataLoader:
    """Iterate over a data set in mini-batches.

    Parameters
    ----------
    data : an array, a tuple of arrays, or a data set with ``len`` and fancy indexing
        (``ds[index_array]`` returns a tuple of arrays, e.g. ``FashionMNIST``).
    batch_size : rows per batch.
    shuffle : a fresh random order every epoch (seeded).
    seed : seeds the order and the transform's random numbers.
    drop_last : skip the final short batch (GANs and batch norm dislike tiny batches).
    device : ``"cpu"`` or ``"cuda"``: batches become minigen Tensors there;
        ``None`` yields the NumPy arrays themselves.
    transform : optional ``f(x, rng) -> x`` applied to the first array of each batch
        (the inputs) before it becomes a tensor; ``rng`` is a NumPy Generator unique
        to this batch, e.g. ``transform=binarize_dynamic``.

    Each ``for batch in loader`` runs the rest of the current epoch and yields a tuple
    of tensors (or one tensor when the data is a single array).
    """

    def __init__(self, data, batch_size: int = 64, *, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False, device: str | None = "cpu", transform=None):
        if isinstance(data, np.ndarray):
            data, self._single = ArrayDataset(data), True
        elif isinstance(data, (tuple, list)):
            data, self._single = ArrayDataset(*data), False
        else:
            self._single = False
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.dataset = data
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
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
            arrays = self.dataset[index]
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
