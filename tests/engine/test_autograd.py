"""The backward walk: accumulation, modes, hooks, graph freeing, deep chains, mg.grad."""
import gc
import weakref

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen.autograd import GraphFreedError
from minigen.gradcheck import gradcheck


def t(values, **kw):
    return mg.tensor(np.asarray(values, dtype=np.float64), **kw)


def test_gradient_of_reused_tensor_is_summed():
    x = t([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x + x * 3.0).sum()            # d/dx = 2x + 3
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 3)


def test_leaf_grads_accumulate_over_calls_until_zeroed():
    x = t([1.0, -2.0], requires_grad=True)
    (x * 2.0).sum().backward()
    (x * 5.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, [7.0, 7.0])
    x.zero_grad()
    assert x.grad is None


def test_intermediate_grads_are_not_kept_unless_retained():
    x = t([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    kept = (x * 2.0).retain_grad()
    (h * kept).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(kept.grad.data, h.data)
    np.testing.assert_allclose(x.grad.data, 12 * x.data)


def test_scalar_operators_on_either_side_keep_float32():
    x = mg.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    arr = np.array([2.0, 4.0], dtype=np.float32)
    for y in (2 + x, x + 2, 2 - x, x - 2.5, 3 * x, x * 3, 1 / x, x / 2, -x, x ** 2, 2 ** x,
              arr + x, x * arr, arr / x, arr @ x):
        assert y.dtype == np.float32
    y = (2.0 ** x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, np.log(2.0) * 2.0 ** x.data, rtol=1e-6)
    assert x.grad.dtype == np.float32


def test_numpy_array_on_the_left_returns_a_tensor():
    x = t([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, mg.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 4.0])


def test_no_grad_and_enable_grad():
    x = t([1.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2.0
        with mg.enable_grad():
            z = x * 3.0
    assert not y.requires_grad and y.creator is None
    assert z.requires_grad and z.creator is not None
    assert mg.is_grad_enabled()


def test_detach_and_requires_grad_():
    x = t([1.0, 2.0], requires_grad=True)
    d = (x * 2.0).detach()
    assert d.creator is None and not d.requires_grad
    d.requires_grad_()
    (d * x).sum().backward()
    np.testing.assert_allclose(d.grad.data, x.data)
    with pytest.raises(TypeError, match="float"):
        mg.tensor([1, 2]).requires_grad_()


def test_hooks_see_and_replace_gradients():
    x = t([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    handle = x.register_hook(lambda g: g * 10.0)
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * h.data)
    np.testing.assert_allclose(x.grad.data, 10 * 8 * x.data)
    handle.remove()
    x.zero_grad()
    (x * 1.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0, 1.0])


def test_backward_twice_through_a_freed_graph_raises():
    x = t([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2.0).sum()
    y.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = t([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2.0).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 4 * np.exp(x.data))


def test_backward_on_non_scalar_needs_a_gradient():
    x = t([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match="needs a gradient of the same shape"):
        y.backward()
    y.backward(np.array([1.0, -1.0]))
    np.testing.assert_allclose(x.grad.data, [2.0, -2.0])


def test_backward_without_requires_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (t([1.0]) * 2.0).sum().backward()


def test_deep_chain_has_no_recursion_limit():
    x = t([0.5], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0])


def test_graph_is_freed_after_backward():
    x = t(np.ones((50, 50)), requires_grad=True)
    h1 = x.exp()
    h2 = h1 * 2.0
    loss = h2.sum()
    array_ref = weakref.ref(h1.data)
    node_ref = weakref.ref(h1.creator)
    del h1, h2
    gc.collect()
    assert array_ref() is not None          # still needed by backward
    loss.backward()
    gc.collect()
    assert array_ref() is None, "an intermediate array outlived backward"
    assert node_ref() is None, "a graph node outlived backward"
    assert loss.creator.inputs is None


def test_graph_is_kept_with_retain_graph():
    x = t(np.ones(4), requires_grad=True)
    h = x.exp()
    loss = (h * 2.0).sum()
    ref = weakref.ref(h.data)
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None


def test_grad_returns_without_touching_dot_grad():
    x = t([1.0, 2.0], requires_grad=True)
    w = t([3.0, 4.0], requires_grad=True)
    y = (x * x * w).sum()
    gx, = mg.grad(y, [x])
    np.testing.assert_allclose(gx.data, 2 * x.data * w.data)
    assert x.grad is None and w.grad is None


def test_grad_of_grad_hessian_vector_product():
    x = t([0.3, -0.7, 1.1], requires_grad=True)
    y = (x.sin() * x).sum()
    g, = mg.grad(y, x, create_graph=True)
    v = t([1.0, 2.0, -1.0])
    hv, = mg.grad((g * v).sum(), x)
    hessian_diag = 2 * np.cos(x.data) - x.data * np.sin(x.data)
    np.testing.assert_allclose(hv.data, hessian_diag * v.data, rtol=1e-10)


def test_third_derivative():
    x = t([0.4], requires_grad=True)
    y = (x ** 4.0).sum()
    g1, = mg.grad(y, x, create_graph=True)
    g2, = mg.grad(g1.sum(), x, create_graph=True)
    g3, = mg.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.data, 24 * x.data)


def test_grad_unused_input():
    x, z = t([1.0], requires_grad=True), t([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        mg.grad((x * 2.0).sum(), [x, z])
    gx, gz = mg.grad((x * 2.0).sum(), [x, z], allow_unused=True)
    assert gz is None


def test_grad_with_respect_to_an_intermediate():
    x = t([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    y = (h * h).sum()
    gh, gx = mg.grad(y, [h, x])
    np.testing.assert_allclose(gh.data, 2 * h.data)
    np.testing.assert_allclose(gx.data, 18 * x.data)


def test_multi_output_split_with_unused_part():
    x = t(np.arange(6.0), requires_grad=True)
    a, b, c = mg.split(x, 2)          # PyTorch's meaning: pieces of length 2
    (b * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, [0, 0, 2, 2, 0, 0])


def test_getitem_repeated_indices_add_up():
    x = t([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 0.0, 1.0])


def test_bce_with_logits_is_stable_for_huge_logits():
    x = mg.tensor(np.array([1e4, -1e4, 50.0, -50.0], dtype=np.float32), requires_grad=True)
    target = np.array([0.0, 1.0, 1.0, 0.0], dtype=np.float32)
    loss = F.binary_cross_entropy_with_logits(x, target, reduction="none")
    np.testing.assert_allclose(loss.data, [1e4, 1e4, 0.0, 0.0], atol=1e-6)
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad.data))
    np.testing.assert_allclose(x.grad.data, [1.0, -1.0, 0.0, 0.0], atol=1e-6)


def test_gradient_penalty_through_conv_leaky_relu_batch_norm():
    """WGAN-GP: the norm of d D(x)/dx, differentiated again with respect to the
    discriminator's weights, through conv + leaky_relu + batch_norm."""
    rng = np.random.default_rng(0)
    x = t(rng.standard_normal((3, 2, 5, 5)), requires_grad=True)
    params = [t(rng.standard_normal(s) * 0.5, requires_grad=True)
              for s in [(3, 2, 3, 3), (3,), (3,), (3,), (1, 3 * 3 * 3)]]

    def penalty(x_in, w, b, gamma, beta, w_out):
        h = F.conv2d(x_in, w, b, stride=2, padding=1)
        h = F.leaky_relu(F.batch_norm(h, None, None, gamma, beta, training=True), 0.2)
        score = (h.reshape(3, -1) @ w_out.T).sum()
        g, = mg.grad(score, x_in, create_graph=True)
        norm = ((g * g).sum(axis=(1, 2, 3)) + 1e-12).sqrt()
        return ((norm - 1.0) ** 2).mean()

    gradcheck(penalty, [x] + params)
    value = penalty(x, *params)
    value.backward()
    w, b, gamma, beta, w_out = params
    for p in (w, gamma, w_out):
        assert np.any(np.abs(p.grad.data) > 1e-8)
    # batch norm subtracts the channel mean, so the conv bias cannot change anything:
    np.testing.assert_allclose(b.grad.data, 0.0, atol=1e-10)
    # and beta shifts D(x) without changing dD/dx: the penalty does not depend on it
    assert beta.grad is None


def test_grad_through_a_freed_graph_raises():
    x = t([1.0, 2.0], requires_grad=True)
    h = x.exp()
    y = (h * 2.0).sum()
    mg.grad(y, h)
    with pytest.raises(GraphFreedError):
        mg.grad(y, x)
