"""The Tensor methods and top-level names a PyTorch program types without looking.

Each is checked against NumPy (a value worked out independently) and, when torch is
installed, against PyTorch on the same input; differentiable ones also pass gradients.
"""
import numpy as np
import pytest

import minigen as mg

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 3)).astype(np.float32)
Y = rng.standard_normal((2, 3)).astype(np.float32)


def _np(result):
    if isinstance(result, tuple):
        return tuple(_np(r) for r in result)
    return np.asarray(result.detach().numpy()) if hasattr(result, "numpy") else np.asarray(result)


METHODS = [
    ("pow", lambda t, u: t.pow(2), lambda a, b: a ** 2),
    ("eq", lambda t, u: t.eq(u), lambda a, b: a == b),
    ("ne", lambda t, u: t.ne(u), lambda a, b: a != b),
    ("lt", lambda t, u: t.lt(u), lambda a, b: a < b),
    ("le", lambda t, u: t.le(0.0), lambda a, b: a <= 0.0),
    ("gt", lambda t, u: t.gt(u), lambda a, b: a > b),
    ("ge", lambda t, u: t.ge(u), lambda a, b: a >= b),
    ("view", lambda t, u: t.view(3, 2), lambda a, b: a.reshape(3, 2)),
    ("view(-1)", lambda t, u: t.view(-1), lambda a, b: a.reshape(-1)),
    ("view_as", lambda t, u: t.view_as(u.view(6)), lambda a, b: a.reshape(6)),
    ("t", lambda t, u: t.t(), lambda a, b: a.T),
    ("clone", lambda t, u: t.clone(), lambda a, b: a.copy()),
    ("expand", lambda t, u: t[:1].expand(4, -1), lambda a, b: np.broadcast_to(a[:1], (4, 3))),
    ("expand_as", lambda t, u: t[:, :1].expand_as(u), lambda a, b: np.broadcast_to(a[:, :1], (2, 3))),
    ("repeat", lambda t, u: t.repeat(1, 2), lambda a, b: np.tile(a, (1, 2))),
    ("long", lambda t, u: (t * 3).long(), lambda a, b: (a * 3).astype(np.int64)),
    ("int", lambda t, u: (t * 3).int(), lambda a, b: (a * 3).astype(np.int32)),
    ("bool", lambda t, u: t.gt(0).bool(), lambda a, b: a > 0),
    ("float", lambda t, u: t.double().float(), lambda a, b: a),
    ("double", lambda t, u: t.double(), lambda a, b: a.astype(np.float64)),
    ("norm", lambda t, u: t.norm(), lambda a, b: np.float32(np.linalg.norm(a))),
    ("norm(dim)", lambda t, u: t.norm(dim=1), lambda a, b: np.linalg.norm(a, axis=1)),
    ("norm(p=1, dim)", lambda t, u: t.norm(1, 0), lambda a, b: np.abs(a).sum(0)),
    ("argmax(dim, keepdim)", lambda t, u: t.argmax(1, keepdim=True), lambda a, b: a.argmax(1)[:, None]),
    ("argmax()", lambda t, u: t.argmax(), lambda a, b: np.int64(a.argmax())),
    ("argmin(dim)", lambda t, u: t.argmin(dim=0), lambda a, b: a.argmin(0)),
    ("add(alpha)", lambda t, u: t.add(u, alpha=2), lambda a, b: a + 2 * b),
    ("sub", lambda t, u: t.sub(u), lambda a, b: a - b),
    ("mul", lambda t, u: t.mul(u), lambda a, b: a * b),
    ("div", lambda t, u: t.div(2.0), lambda a, b: a / 2),
    ("mm", lambda t, u: t.mm(u.t()), lambda a, b: a @ b.T),
    ("matmul", lambda t, u: t.matmul(u.t()), lambda a, b: a @ b.T),
    ("chunk", lambda t, u: t.chunk(2, 1), lambda a, b: (a[:, :2], a[:, 2:])),
    ("unsqueeze(dim)", lambda t, u: t.unsqueeze(1), lambda a, b: a[:, None]),
    ("permute", lambda t, u: t.permute(1, 0), lambda a, b: a.T),
    ("flatten", lambda t, u: t.flatten(), lambda a, b: a.reshape(-1)),
    ("amax", lambda t, u: t.amax(1), lambda a, b: a.max(1)),
    ("mean(dim, keepdim)", lambda t, u: t.mean(dim=0, keepdim=True), lambda a, b: a.mean(0, keepdims=True)),
    ("logsumexp(dim)", lambda t, u: t.logsumexp(1), lambda a, b: np.log(np.exp(a).sum(1))),
    ("softmax(dim)", lambda t, u: t.softmax(dim=0), lambda a, b: np.exp(a) / np.exp(a).sum(0)),
    ("log_softmax(dim)", lambda t, u: t.log_softmax(1),
     lambda a, b: a - np.log(np.exp(a).sum(1, keepdims=True))),
    ("contiguous", lambda t, u: t.contiguous(), lambda a, b: a),
    ("type_as", lambda t, u: t.type_as(u.double()), lambda a, b: a.astype(np.float64)),
    ("square", lambda t, u: t.square(), lambda a, b: a * a),
]


@pytest.mark.parametrize("name, ours, expected", METHODS, ids=[m[0] for m in METHODS])
def test_method_matches_numpy(name, ours, expected):
    got = _np(ours(mg.tensor(X), mg.tensor(Y)))
    want = expected(X, Y)
    if isinstance(want, tuple):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
        return
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype


@pytest.mark.parametrize("name, ours, expected", METHODS, ids=[m[0] for m in METHODS])
def test_method_matches_pytorch(name, ours, expected):
    torch = pytest.importorskip("torch")
    got = _np(ours(mg.tensor(X), mg.tensor(Y)))
    theirs = _np(ours(torch.tensor(X), torch.tensor(Y)))
    if isinstance(theirs, tuple):
        for g, w in zip(got, theirs):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
        return
    np.testing.assert_allclose(got, theirs, rtol=1e-5, atol=1e-6)
    assert got.shape == theirs.shape and got.dtype == theirs.dtype


@pytest.mark.parametrize("name, fn", [
    ("clone", lambda t: t.clone() * t), ("expand", lambda t: t[:1].expand(3, -1)),
    ("repeat", lambda t: t.repeat(2, 1, 2)), ("view_as", lambda t: t.view_as(mg.zeros(6)) ** 2),
    ("t", lambda t: t.t() ** 2), ("norm", lambda t: t.norm(dim=1)), ("norm p=3", lambda t: t.norm(3)),
    ("norm inf", lambda t: t.norm(float("inf"))), ("pow", lambda t: t.pow(3)),
    ("repeat_interleave", lambda t: t.repeat_interleave(2, dim=0) ** 2),
    ("bmm", lambda t: mg.bmm(t.view(1, 2, 3), t.view(1, 3, 2))),
])
def test_differentiable_methods_pass_gradcheck(name, fn):
    x = mg.tensor(rng.uniform(0.5, 2.0, (2, 3)), requires_grad=True)
    mg.gradcheck(fn, [x])
    mg.gradgradcheck(fn, [x])


def test_integer_and_bool_conversions_stay_outside_the_graph():
    x = mg.tensor(X, requires_grad=True)
    assert not x.long().requires_grad and x.long().dtype == np.int64


def test_top_level_torch_names():
    a = mg.tensor(rng.standard_normal((4, 2, 3)).astype(np.float32))
    b = mg.tensor(rng.standard_normal((4, 3, 5)).astype(np.float32))
    np.testing.assert_allclose(mg.bmm(a, b).numpy(), a.numpy() @ b.numpy(), rtol=1e-5)
    np.testing.assert_allclose(mg.clamp(a, min=0.0).numpy(), np.maximum(a.numpy(), 0.0))
    assert mg.cat([a, a], dim=1).shape == (4, 4, 3) and mg.stack([a, a], dim=1).shape == (4, 2, 2, 3)
    assert mg.flatten(a, 1).shape == (4, 6) and mg.flatten(a).shape == (24,)
    with pytest.raises(mg.ShapeError, match="bmm"):
        mg.bmm(a, b[:3])
    with pytest.raises(mg.ShapeError, match="mm"):
        mg.mm(a, b)


def test_no_grad_as_decorator_with_and_without_call():
    x = mg.tensor([1.0, 2.0], requires_grad=True)

    @mg.no_grad()
    def called(t):
        return t * 2

    @mg.no_grad
    def bare(t):
        return t * 2

    assert not called(x).requires_grad and not bare(x).requires_grad
    assert (x * 2).requires_grad and mg.is_grad_enabled()


def test_t_refuses_more_than_two_dims():
    with pytest.raises(ValueError, match="permute"):
        mg.zeros(2, 3, 4).t()


def test_size_method_everywhere_the_engine_counts_elements():
    """The engine's own element counts went through `.size`; the implicit gradient,
    reshape's check and gradcheck must still work with size a method."""
    x = mg.tensor(X, requires_grad=True)
    (x * x).sum().backward()                        # implicit gradient 1: one element
    np.testing.assert_allclose(x.grad.numpy(), 2 * X, rtol=1e-6)
    with pytest.raises(RuntimeError, match="needs a gradient"):
        (x * 1).backward()
    with pytest.raises(mg.ShapeError, match="6 elements"):
        x.reshape(4, 2)
    assert bool(mg.tensor([3.0])) and mg.tensor([[2.0]]).item() == 2.0


def test_constructors_under_torch_names():
    a = np.arange(3.0)
    t = mg.from_numpy(a)
    assert t.data is a and t.dtype == np.float64 and mg.is_tensor(t) and not mg.is_tensor(a)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        mg.from_numpy([1.0, 2.0])
    assert mg.empty(2, 3).shape == (2, 3) and mg.empty(2, 3).dtype == np.float32
    np.testing.assert_allclose(mg.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1.0])
    mg.manual_seed(3)
    p = mg.randperm(6)
    assert sorted(p.tolist()) == list(range(6)) and p.dtype == np.int64
    mg.manual_seed(3)
    assert mg.randperm(6).tolist() == p.tolist()


def test_linspace_matches_pytorch():
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(mg.linspace(-2, 3, 7).numpy(), torch.linspace(-2, 3, 7).numpy(), rtol=1e-6)
