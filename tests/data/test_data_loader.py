"""DataLoader: every example once per epoch, seeded order, drop_last, exact resumption."""
import numpy as np
import pytest

from minigen.data import DataLoader, FashionMNIST, binarize_dynamic


def _ids(loader, n_batches=None):
    """The first column of each batch (rows are labelled by their index)."""
    out = []
    for i, batch in enumerate(loader):
        x = batch[0] if isinstance(batch, tuple) else batch
        out.append(np.asarray(x)[:, 0].astype(int).tolist())
        if n_batches is not None and i + 1 == n_batches:
            break
    return out


def _data(n=23):
    return np.arange(n, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)


def test_each_example_once_per_epoch_and_batch_sizes():
    loader = DataLoader(_data(23), batch_size=5, shuffle=True, seed=0, device=None)
    assert len(loader) == 5
    epoch = _ids(loader)
    assert [len(b) for b in epoch] == [5, 5, 5, 5, 3]
    assert sorted(sum(epoch, [])) == list(range(23))
    assert sum(epoch, []) != list(range(23))              # shuffled
    assert loader.state_dict() == {"seed": 0, "epoch": 1, "batch": 0, "batch_size": 5,
                                   "length": 23, "shuffle": True, "drop_last": False}


def test_drop_last_and_no_shuffle():
    loader = DataLoader(_data(23), batch_size=5, shuffle=False, drop_last=True, device=None)
    assert len(loader) == 4
    assert sum(_ids(loader), []) == list(range(20))


def test_seeded_order_reproducible_and_changes_per_epoch():
    a = DataLoader(_data(), batch_size=4, shuffle=True, seed=7, device=None)
    b = DataLoader(_data(), batch_size=4, shuffle=True, seed=7, device=None)
    c = DataLoader(_data(), batch_size=4, shuffle=True, seed=8, device=None)
    ea, eb, ec = _ids(a), _ids(b), _ids(c)
    assert ea == eb and ea != ec
    assert _ids(a) != ea                                    # epoch 1 differs from epoch 0


def test_tuple_data_yields_tuples_and_single_array_yields_arrays():
    labels = np.arange(23) * 10
    x, y = next(iter(DataLoader((_data(), labels), batch_size=4, device=None)))
    np.testing.assert_array_equal(x[:, 0] * 10, y)
    single = next(iter(DataLoader(_data(), batch_size=4, device=None)))
    assert isinstance(single, np.ndarray) and single.shape == (4, 3)


def test_dataset_objects_work():
    ds = FashionMNIST("test", source="embedded")
    images, labels = next(iter(DataLoader(ds, batch_size=16, seed=0, device=None)))
    assert images.shape == (16, 28, 28) and images.dtype == np.uint8 and labels.shape == (16,)


@pytest.mark.parametrize("consumed", [0, 2, 5, 6, 8])     # within, at and across epoch ends
def test_resume_continues_exactly(consumed):
    """Stop after ``consumed`` batches, rebuild from state_dict: the rest is identical,
    including the per-batch random transform."""
    def make():
        x = np.random.default_rng(0).random((23, 3)).astype(np.float32)
        return DataLoader(x, batch_size=5, shuffle=True, seed=3, device=None, transform=binarize_dynamic)

    straight = make()
    reference = [b.copy() for _, b in zip(range(12), straight.forever())]

    first = make()
    seen = [b.copy() for _, b in zip(range(consumed), first.forever())]
    state = first.state_dict()
    second = make()
    second.load_state_dict(state)
    rest = [b.copy() for _, b in zip(range(12 - consumed), second.forever())]
    for got, want in zip(seen + rest, reference):
        np.testing.assert_array_equal(got, want)


def test_state_after_breaking_mid_epoch_points_at_next_batch():
    loader = DataLoader(_data(23), batch_size=5, shuffle=True, seed=1, device=None)
    first_epoch = _ids(DataLoader(_data(23), batch_size=5, shuffle=True, seed=1, device=None))
    got = _ids(loader, n_batches=2)
    assert loader.state_dict()["batch"] == 2
    assert got + _ids(loader) == first_epoch                # the rest of the same epoch


def test_forever_crosses_epochs_and_refuses_empty():
    loader = DataLoader(_data(10), batch_size=4, drop_last=True, device=None)
    batches = [b for _, b in zip(range(5), loader.forever())]
    assert len(batches) == 5 and loader.epoch == 2 and loader.batch == 1
    with pytest.raises(ValueError, match="larger than the 3 samples"):
        DataLoader(_data(3), batch_size=4, drop_last=True, device=None)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_data(3), batch_size=0)
    with pytest.raises(ValueError, match="differ in length"):
        DataLoader((_data(3), np.arange(4)))


def test_batches_become_minigen_tensors_on_the_device():
    mg = pytest.importorskip("minigen")
    x, y = _data(10), np.arange(10)
    bx, by = next(iter(DataLoader((x, y), batch_size=4, shuffle=False, device="cpu")))
    assert isinstance(bx, mg.Tensor) and isinstance(by, mg.Tensor)
    assert bx.dtype == np.float32 and by.dtype == np.int64 and not bx.requires_grad
    np.testing.assert_array_equal(bx.numpy(), x[:4])
    np.testing.assert_array_equal(by.numpy(), y[:4])


def test_a_loader_that_would_yield_nothing_is_refused():
    x = np.zeros((10, 2), np.float32)
    with pytest.raises(ValueError, match=r"drop_last=True with batch_size=16 larger than the 10"):
        DataLoader(x, 16, drop_last=True)
    with pytest.raises(ValueError, match="empty"):
        DataLoader(x[:0], 4)
    assert len(DataLoader(x, 16)) == 1                  # without drop_last: one short batch


@pytest.mark.parametrize("batch_size, error, words", [("8", TypeError, "batch_size must be an integer, got '8'"),
                                                      (2.5, TypeError, "got 2.5"),
                                                      (True, TypeError, "got True"),
                                                      (0, ValueError, "at least 1, got 0"),
                                                      (-3, ValueError, "at least 1, got -3")])
def test_batch_size_must_be_a_positive_integer(batch_size, error, words):
    with pytest.raises(error, match=words):
        DataLoader(_data(), batch_size)


def test_seed_must_be_a_non_negative_integer():
    with pytest.raises(ValueError, match=r"seed must be between 0 and 2\*\*64 - 1, got -1"):
        DataLoader(_data(), 4, seed=-1)
    with pytest.raises(TypeError, match="seed must be an integer"):
        DataLoader(_data(), 4, seed="0")
    assert DataLoader(_data(), np.int64(4), seed=np.uint64(2**64 - 1)).batch_size == 4


# -- PyTorch's signature and defaults --------------------------------------------------------
def test_defaults_are_pytorchs_batch_of_one_in_order():
    loader = DataLoader(_data(5), device=None)
    assert (loader.batch_size, loader.shuffle, loader.drop_last) == (1, False, False)
    assert _ids(loader) == [[0], [1], [2], [3], [4]]           # no shuffling unless asked
    positional = DataLoader(_data(6), 3, True, device=None)    # (dataset, batch_size, shuffle)
    assert positional.shuffle and sorted(sum(_ids(positional), [])) == list(range(6))


def test_num_workers_and_pin_memory_are_accepted_and_change_nothing():
    plain = _ids(DataLoader(_data(), 4, shuffle=True, seed=2, device=None))
    assert _ids(DataLoader(_data(), 4, shuffle=True, seed=2, num_workers=4, pin_memory=True,
                           device=None)) == plain
    with pytest.raises(ValueError, match="num_workers must be 0 or more"):
        DataLoader(_data(), 4, num_workers=-1)
    with pytest.raises(TypeError):
        DataLoader(_data(), 4, sampler=None)                   # not silently ignored


class _SampleDataset:
    """A PyTorch-style data set: ``len`` and one sample per integer index."""

    def __init__(self, n=7):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not isinstance(i, int):
            raise TypeError("one sample at a time")
        return np.full((2, 2), i, np.float32), i * 10


def test_a_pytorch_style_dataset_is_fetched_per_sample_and_stacked():
    batches = list(DataLoader(_SampleDataset(), batch_size=3, device=None))
    assert [len(y) for _, y in batches] == [3, 3, 1]
    x, y = batches[0]
    assert x.shape == (3, 2, 2) and x.dtype == np.float32 and y.tolist() == [0, 10, 20]
    tensors = next(iter(DataLoader(_SampleDataset(), batch_size=2)))
    assert tensors[0].shape == (2, 2, 2)                       # minigen Tensors by default


def test_same_batches_and_signature_defaults_as_torch():
    torch = pytest.importorskip("torch")
    import inspect
    theirs = inspect.signature(torch.utils.data.DataLoader).parameters
    ours = inspect.signature(DataLoader).parameters
    for name in ("batch_size", "num_workers", "pin_memory", "drop_last"):
        assert ours[name].default == theirs[name].default, name
    assert bool(theirs["shuffle"].default) is ours["shuffle"].default is False
    assert list(ours)[:3] == list(theirs)[:3] == ["dataset", "batch_size", "shuffle"]
    for drop_last in (False, True):
        mine = [(x.tolist(), y.tolist()) for x, y in
                DataLoader(_SampleDataset(), 3, drop_last=drop_last, device=None)]
        reference = [(x.tolist(), y.tolist()) for x, y in
                     torch.utils.data.DataLoader(_SampleDataset(), 3, drop_last=drop_last)]
        assert mine == reference
