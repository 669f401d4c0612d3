"""MaskedLinear and MaskedConv2d: gradients (1st and 2nd order, float64, every input),
the mask's effect on outputs and gradients, the type A / B masks, state and errors."""
import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
from minigen.nn.masked import causal_conv_mask


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def random_mask(rng, shape):
    return (rng.random(shape) < 0.5).astype(np.float64)


def test_masked_linear_gradcheck_first_and_second_order(rng):
    mg.manual_seed(0)
    layer = nn.MaskedLinear(5, 4, mask=random_mask(rng, (4, 5))).double()
    x = mg.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    fn = lambda x, w, b: mg.tanh(layer(x))          # tanh: a non-zero second derivative
    inputs = [x, layer.weight, layer.bias]
    assert mg.gradcheck(fn, inputs).ok
    assert mg.gradgradcheck(fn, inputs).ok


def test_masked_conv_gradcheck_first_and_second_order(rng):
    mg.manual_seed(0)
    for kind in "AB":
        layer = nn.MaskedConv2d(2, 3, 3, mask_type=kind).double()
        x = mg.tensor(rng.standard_normal((2, 2, 4, 4)), requires_grad=True)
        fn = lambda x, w, b: mg.tanh(layer(x))
        inputs = [x, layer.weight, layer.bias]
        assert mg.gradcheck(fn, inputs).ok
        assert mg.gradgradcheck(fn, inputs).ok


def test_masked_linear_is_linear_with_masked_weight(rng):
    mask = random_mask(rng, (4, 6))
    layer = nn.MaskedLinear(6, 4, mask=mask).double()
    x = rng.standard_normal((3, 6))
    expected = x @ (layer.weight.numpy() * mask).T + layer.bias.numpy()
    np.testing.assert_allclose(layer(mg.tensor(x)).numpy(), expected, rtol=1e-12)


def test_forbidden_weights_get_zero_gradient_and_do_not_matter(rng):
    mask = random_mask(rng, (4, 6))
    mask[0] = 0                                   # output 0 sees nothing: its bias alone
    layer = nn.MaskedLinear(6, 4, mask=mask).double()
    x = mg.tensor(rng.standard_normal((3, 6)))
    y = layer(x)
    np.testing.assert_allclose(y.numpy()[:, 0], layer.bias.numpy()[0])
    y.sum().backward()
    assert np.all(layer.weight.grad.numpy()[mask == 0] == 0)
    assert np.all(layer.weight.grad.numpy()[mask == 1] != 0)
    # the bias is trained for every output, the empty row included
    np.testing.assert_allclose(layer.bias.grad.numpy(), np.full(4, 3.0))
    before = layer(x).numpy()
    layer.weight.data = np.where(mask == 0, 1e3, layer.weight.data)   # change forbidden weights
    np.testing.assert_array_equal(layer(x).numpy(), before)


def test_masked_linear_output_depends_only_on_allowed_inputs(rng):
    mask = random_mask(rng, (5, 7))
    layer = nn.MaskedLinear(7, 5, mask=mask).double()
    x = mg.tensor(rng.standard_normal((1, 7)), requires_grad=True)
    y = layer(x)
    jacobian = np.stack([mg.grad([y[0, j]], [x], retain_graph=True)[0].numpy()[0]
                         for j in range(5)])
    np.testing.assert_array_equal(jacobian != 0, mask == 1)


def test_causal_masks_type_a_and_b():
    a = causal_conv_mask(1, 1, (3, 3), "A")[0, 0]
    b = causal_conv_mask(1, 1, (3, 3), "B")[0, 0]
    np.testing.assert_array_equal(a, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(b, [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    v = causal_conv_mask(1, 1, (3, 3), "V")[0, 0]
    np.testing.assert_array_equal(v, [[1, 1, 1], [1, 1, 1], [0, 0, 0]])
    row = causal_conv_mask(1, 1, (1, 5), "A")[0, 0]
    np.testing.assert_array_equal(row, [[1, 1, 0, 0, 0]])
    five = causal_conv_mask(2, 3, (5, 5), "A")
    assert five.shape == (2, 3, 5, 5) and five.sum() == 2 * 3 * 12


def test_type_a_output_pixel_sees_only_earlier_pixels(rng):
    layer = nn.MaskedConv2d(1, 2, 5, mask_type="A").double()
    x = mg.tensor(rng.standard_normal((1, 1, 6, 6)), requires_grad=True)
    y = layer(x)
    assert y.shape == (1, 2, 6, 6)                 # size kept
    (g,) = mg.grad([y[0, :, 3, 2].sum()], [x])
    seen = g.numpy()[0, 0] != 0
    expected = np.zeros((6, 6), dtype=bool)
    expected[1:3, 0:5] = True                      # two rows above, within the 5x5 window
    expected[3, 0:2] = True                        # the two pixels left of the centre
    np.testing.assert_array_equal(seen, expected)


def test_mask_is_state_and_moves_with_dtype(rng, tmp_path):
    mask = random_mask(rng, (3, 4))
    layer = nn.MaskedLinear(4, 3, mask=mask)
    assert layer.mask.dtype == np.float32
    state = layer.state_dict()
    assert "mask" in state
    other = nn.MaskedLinear(4, 3)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.mask, mask)
    assert layer.double().mask.dtype == np.float64


def test_bad_masks_are_refused():
    with pytest.raises(ValueError, match="shape"):
        nn.MaskedLinear(4, 3, mask=np.ones((4, 3)))
    with pytest.raises(ValueError, match="only 0 and 1"):
        nn.MaskedLinear(4, 3, mask=np.full((3, 4), 0.5))
    with pytest.raises(ValueError, match="'A' or 'B'"):
        nn.MaskedConv2d(1, 1, 3, mask_type="C")
    with pytest.raises(ValueError, match="odd kernel"):
        nn.MaskedConv2d(1, 1, 4)
