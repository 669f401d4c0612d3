"""Where NumPy and PyTorch give the same call different meanings, minigen follows PyTorch.

Each conflicting name is checked twice: against a value worked out by hand (always), and
against PyTorch itself on the same input (when torch is installed). The README's section
"PyTorch or NumPy meaning" lists the same names.
"""
import math

import numpy as np
import pytest

import minigen as mg

A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)          # (2, 3)
B = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
V = np.array([1.0, 2.0, 4.0, 7.0], dtype=np.float32)                         # mean 3.5


def _values(result):
    """Arrays of a result that may be a tensor or a (values, indices) pair."""
    if isinstance(result, tuple):
        return tuple(_values(r) for r in result)
    if hasattr(result, "detach") and hasattr(result, "numpy"):
        return np.asarray(result.detach().numpy())
    return result


# name, the call (works on minigen and torch tensors alike), input, expected by hand
CASES = [
    ("transpose(0, 1) swaps on 2-D", lambda t: t.transpose(0, 1), A,
     np.array([[1, 4], [2, 5], [3, 6]], dtype=np.float32)),
    ("transpose(dim0=, dim1=)", lambda t: t.transpose(dim0=1, dim1=0), A, A.T),
    ("transpose(0, 2) swaps on 3-D", lambda t: t.transpose(0, 2), B,
     np.arange(24, dtype=np.float32).reshape(2, 3, 4).swapaxes(0, 2)),
    ("std() is unbiased", lambda t: t.std(), V,
     np.float32(math.sqrt(((1 - 3.5) ** 2 + (2 - 3.5) ** 2 + (4 - 3.5) ** 2 + (7 - 3.5) ** 2) / 3))),
    ("var() is unbiased", lambda t: t.var(), V, np.float32(21.0 / 3)),
    ("var(dim) is unbiased", lambda t: t.var(1), A, np.array([1.0, 1.0], dtype=np.float32)),
    ("var(unbiased=False)", lambda t: t.var(unbiased=False), V, np.float32(21.0 / 4)),
    ("std(dim, keepdim=True)", lambda t: t.std(0, keepdim=True), A,
     np.full((1, 3), math.sqrt(4.5), dtype=np.float32)),
    ("max(dim) is (values, indices)", lambda t: t.max(1), A,
     (np.array([3.0, 6.0], dtype=np.float32), np.array([2, 2]))),
    ("min(dim, keepdim)", lambda t: t.min(0, keepdim=True), A,
     (np.array([[1.0, 2.0, 3.0]], dtype=np.float32), np.array([[0, 0, 0]]))),
    ("max() is the largest value", lambda t: t.max(), A, np.float32(6.0)),
    ("split(int) is the piece length", lambda t: t.split(2, 1), A,
     (np.array([[1, 2], [4, 5]], dtype=np.float32), np.array([[3], [6]], dtype=np.float32))),
    ("split(list) is the piece lengths", lambda t: t.split([1, 2], dim=1), A,
     (np.array([[1], [4]], dtype=np.float32), np.array([[2, 3], [5, 6]], dtype=np.float32))),
    ("squeeze(dim) of a dim longer than 1 is a no-op", lambda t: t.squeeze(0), A, A),
    ("repeat tiles", lambda t: t.repeat(2, 1), A, np.concatenate([A, A], axis=0)),
    ("repeat adds leading dims", lambda t: t.repeat(2, 1, 2), A,
     np.stack([np.concatenate([A, A], axis=1)] * 2)),
    ("flatten(1)", lambda t: t.flatten(1), B, B.reshape(2, 12)),
    ("sum(dim, keepdim)", lambda t: t.sum(1, keepdim=True), A, np.array([[6.0], [15.0]], dtype=np.float32)),
    ("clamp(min, max)", lambda t: t.clamp(2.0, 5.0), A,
     np.array([[2, 2, 3], [4, 5, 5]], dtype=np.float32)),
    ("argmax(dim)", lambda t: t.argmax(0), A, np.array([1, 1, 1])),
    ("all(dim)", lambda t: (t > 1.5).all(1), A, np.array([False, True])),
    ("any(dim)", lambda t: (t > 5.5).any(1), A, np.array([False, True])),
    ("T reverses all dims", lambda t: t.T, A, A.T),
]


@pytest.mark.parametrize("name, call, data, expected", CASES, ids=[c[0] for c in CASES])
def test_minigen_meaning_matches_the_hand_written_value(name, call, data, expected):
    got = _values(call(mg.tensor(data)))
    if isinstance(expected, tuple):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-6)
            assert g.shape == np.shape(e)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        assert np.shape(got) == np.shape(expected)


@pytest.mark.parametrize("name, call, data, expected", CASES, ids=[c[0] for c in CASES])
def test_minigen_meaning_matches_pytorch(name, call, data, expected):
    torch = pytest.importorskip("torch")
    ours = _values(call(mg.tensor(data)))
    theirs = _values(call(torch.tensor(data)))
    if isinstance(theirs, tuple):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o, t, rtol=1e-6)
            assert o.shape == t.shape
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
        assert np.shape(ours) == np.shape(theirs)


def test_size_is_a_method_and_numel_counts():
    x = mg.tensor(B)
    assert x.size() == (2, 3, 4) and x.size(0) == 2 and x.size(-1) == 4
    assert x.numel() == 24 and x.dim() == 3 and x.ndimension() == 3
    with pytest.raises(IndexError, match="out of range"):
        x.size(3)


@pytest.mark.parametrize("misuse", [
    lambda s: s != 1, lambda s: s == 24, lambda s: s > 0, lambda s: int(s), lambda s: s * 2,
    lambda s: range(s), lambda s: bool(s), lambda s: s // 4])
def test_size_used_as_numpy_count_raises_and_names_numel(misuse):
    """`t.size != 1` must not silently compare a method with 1 (it would always be True)."""
    with pytest.raises(TypeError, match=r"numel\(\)"):
        misuse(mg.tensor(B).size)


def test_numpy_spellings_keep_numpy_meaning_where_pytorch_has_none():
    x = mg.tensor(B)
    assert x.transpose().shape == (4, 3, 2)                       # np: reverse all
    assert x.transpose(2, 0, 1).shape == (4, 2, 3)                # np: a full permutation
    assert x.transpose((2, 0, 1)).shape == (4, 2, 3)
    np.testing.assert_allclose(mg.tensor(V).var(ddof=0).item(), np.var(V))       # np's ddof
    np.testing.assert_allclose(mg.tensor(V).std(correction=0).item(), np.std(V), rtol=1e-6)
    np.testing.assert_allclose(x.amax(axis=(0, 2)).numpy(), B.max(axis=(0, 2)))  # np.max(a, axis)
    parts = mg.tensor_split(mg.tensor(np.arange(7.0)), 3)        # np.array_split
    assert [p.shape[0] for p in parts] == [3, 2, 2]
    parts = mg.tensor_split(mg.tensor(np.arange(6.0)), [1, 4])   # cut points
    assert [p.numpy().tolist() for p in parts] == [[0.0], [1.0, 2.0, 3.0], [4.0, 5.0]]
    np.testing.assert_allclose(mg.tensor(A).repeat_interleave(2, dim=1).numpy(), A.repeat(2, axis=1))
    np.testing.assert_allclose(mg.tensor(A).repeat_interleave(2).numpy(), A.repeat(2))


@pytest.mark.parametrize("call, message", [
    (lambda x: x.sum(dim=0, axis=0), "dim= and axis="),
    (lambda x: x.mean(0, keepdim=True, keepdims=True), "keepdim= and keepdims="),
    (lambda x: x.var(ddof=0, correction=0), "correction= and ddof="),
    (lambda x: x.std(unbiased=False, ddof=1), "unbiased= and ddof="),
    (lambda x: mg.cat([x, x], dim=0, axis=0), "dim= and axis="),
    (lambda x: mg.stack([x, x], dim=0, axis=1), "dim= and axis="),
    (lambda x: mg.softmax(x, dim=0, axis=1), "dim= and axis="),
    (lambda x: mg.functional.log_softmax(x, dim=0, axis=1), "dim= and axis="),
    (lambda x: x.squeeze(dim=0, axis=0), "dim= and axis="),
])
def test_both_spellings_at_once_is_an_error(call, message):
    with pytest.raises(TypeError, match=message):
        call(mg.tensor(A))


@pytest.mark.parametrize("call", [lambda x: x.var(axis=0), lambda x: x.std(axis=1, keepdims=True),
                                  lambda x: mg.var(x, axis=0)])
def test_var_with_numpys_axis_but_no_ddof_is_refused(call):
    """np.var(a, axis=0) is biased, torch.var(x, 0) unbiased: NumPy-habit code must say which."""
    with pytest.raises(TypeError, match="ddof=0 or ddof=1"):
        call(mg.tensor(A))
    np.testing.assert_allclose(mg.tensor(A).var(axis=0, ddof=0).numpy(), A.var(axis=0))
    np.testing.assert_allclose(mg.tensor(A).var(axis=0, ddof=1).numpy(), A.var(axis=0, ddof=1))


@pytest.mark.parametrize("call, names", [
    (lambda x: x.max(axis=1), "amax"), (lambda x: mg.min(x, axis=0), "amin"),
    (lambda x: mg.split(x, 1, axis=1), "tensor_split"), (lambda x: x.var(axis=1), "ddof=0 or ddof=1")])
def test_numpy_spelling_of_a_name_whose_meaning_differs_is_refused(call, names):
    """np.max(a, axis=1) is the values, torch.max(x, 1) (values, indices): code with NumPy's
    habits gets an error naming both spellings rather than a silently different result."""
    with pytest.raises(TypeError, match=names):
        call(mg.tensor(A))


def test_max_over_several_dims_points_to_amax():
    with pytest.raises(TypeError, match="amax"):
        mg.tensor(B).max(dim=(0, 1))


def test_split_lengths_must_add_up():
    with pytest.raises(mg.ShapeError, match="add up"):
        mg.tensor(A).split([1, 1], dim=1)


def test_max_with_a_tensor_is_the_elementwise_maximum():
    a, b = mg.tensor([1.0, 5.0]), mg.tensor([3.0, 2.0])
    np.testing.assert_allclose(mg.max(a, b).numpy(), [3.0, 5.0])
    np.testing.assert_allclose(mg.min(a, b).numpy(), [1.0, 2.0])


def test_max_values_carry_the_gradient_to_the_argmax():
    x = mg.tensor(A, requires_grad=True)
    values, indices = x.max(dim=1)
    (values * mg.tensor([1.0, 2.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0, 1], [0, 0, 2]])
    assert indices.dtype == np.int64 and not indices.requires_grad


def test_transpose_gradient_swaps_back():
    x = mg.tensor(B, requires_grad=True)
    w = mg.tensor(np.arange(24, dtype=np.float32).reshape(4, 3, 2))
    (x.transpose(0, 2) * w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), w.numpy().transpose(2, 1, 0))


@pytest.mark.parametrize("args", [(5,), (1, 7, 2), (0.0, 1.0, 0.25), (0, 2.5)])
def test_arange_dtype_is_pytorchs(args):
    """np.arange(0., 1., .25) is float64; torch's (and minigen's) is float32."""
    ours = mg.arange(*args)
    expected = np.float32 if any(isinstance(a, float) for a in args) else np.int64
    assert ours.dtype == expected
    np.testing.assert_allclose(ours.numpy(), np.arange(*args))
    torch = pytest.importorskip("torch")
    assert str(torch.arange(*args).dtype) == f"torch.{np.dtype(expected).name}"
