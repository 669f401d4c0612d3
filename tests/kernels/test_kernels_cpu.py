"""Every Numba CPU kernel equals the NumPy reference (float64 and float32)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernels import cpu
from kernels import reference as ref
from kernel_cases import (DTYPES, check_close, conv_all, conv_out_shape, noncontiguous,
                          random_conv_case)


def _conv_case_arrays(rng, case, dtype):
    xs, ws, s, p, d, g = case
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    gy = rng.standard_normal(conv_out_shape(xs, ws, s, p, d)).astype(dtype)
    return x, w, gy


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(30))
def test_cpu_conv_matches_reference_random(seed, dtype):
    rng = np.random.default_rng(seed)
    case = random_conv_case(rng)
    x, w, gy = _conv_case_arrays(rng, case, dtype)
    for a, e in zip(conv_all(cpu, x, w, gy, case), conv_all(ref, x, w, gy, case)):
        check_close(a, e, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [
    # (x_shape, w_shape, stride, padding, dilation, groups)
    ((1, 3, 7, 5), (4, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1),          # batch 1, odd sizes
    ((2, 16, 9, 7), (12, 16, 4, 4), (2, 2), (1, 1), (1, 1), 1),       # Cg >= 8: slice-copy path
    ((2, 24, 6, 6), (6, 8, 3, 2), (1, 2), (2, 0), (2, 1), 3),         # groups, Cg = 8
    ((3, 6, 5, 5), (6, 1, 3, 3), (1, 1), (1, 1), (1, 1), 6),          # depthwise
    ((2, 4, 8, 8), (4, 4, 1, 1), (1, 1), (0, 0), (1, 1), 1),          # 1x1
    ((1, 2, 3, 3), (5, 2, 3, 3), (1, 1), (0, 0), (1, 1), 1),          # 1x1 output
    ((2, 3, 11, 10), (4, 3, 3, 3), (3, 2), (2, 3), (2, 3), 1),        # padding > kernel reach
    ((64, 1, 28, 28), (8, 1, 4, 4), (2, 2), (1, 1), (1, 1), 1),       # DCGAN first layer
])
def test_cpu_conv_matches_reference_edge_cases(case, dtype):
    rng = np.random.default_rng(11)
    x, w, gy = _conv_case_arrays(rng, case, dtype)
    for a, e in zip(conv_all(cpu, x, w, gy, case), conv_all(ref, x, w, gy, case)):
        check_close(a, e, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cpu_conv_noncontiguous_inputs(dtype):
    rng = np.random.default_rng(12)
    case = ((2, 4, 6, 7), (6, 2, 3, 3), (1, 2), (1, 1), (1, 1), 2)
    x, w, gy = _conv_case_arrays(rng, case, dtype)
    expected = conv_all(ref, x, w, gy, case)
    xv, wv, gyv = noncontiguous(x), noncontiguous(w), noncontiguous(gy)
    for a, e in zip(conv_all(cpu, xv, wv, gyv, case), expected):
        check_close(a, e, dtype)
    # transposed (Fortran-ordered) views too
    xt = np.asfortranarray(x)
    check_close(cpu.conv2d_forward(xt, w, *case[2:]), expected[0], dtype)


def test_cpu_conv_grad_input_output_padding_shape():
    """conv_transpose2d with output_padding: an x_shape one larger than the minimum."""
    rng = np.random.default_rng(13)
    w = rng.standard_normal((3, 2, 3, 3))
    gy = rng.standard_normal((2, 3, 4, 4))
    for xs in [(2, 2, 7, 7), (2, 2, 8, 8), (2, 2, 8, 7)]:
        check_close(cpu.conv2d_grad_input(gy, w, xs, 2, 1, 1, 1),
               ref.conv2d_grad_input(gy, w, xs, 2, 1, 1, 1), np.float64)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from(DTYPES),
       noncontig=st.booleans())
def test_cpu_conv_hypothesis(seed, dtype, noncontig):
    rng = np.random.default_rng(seed)
    case = random_conv_case(rng, max_hw=11, max_ch=5, max_k=5)
    x, w, gy = _conv_case_arrays(rng, case, dtype)
    expected = conv_all(ref, x, w, gy, case)
    if noncontig:
        x, w, gy = noncontiguous(x), noncontiguous(w), noncontiguous(gy)
    for a, e in zip(conv_all(cpu, x, w, gy, case), expected):
        check_close(a, e, dtype)


# ------------------------------------------------------------------------- batch norm

BN_SHAPES = [(5, 3), (1, 4), (1, 2, 3), (4, 3, 5, 2), (2, 1, 3, 2, 2), (3, 7, 1, 1), (16, 8, 9)]


def _bn_inputs(rng, shape, dtype, affine=True):
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    C = shape[1]
    gamma = rng.standard_normal(C).astype(dtype) if affine else None
    beta = rng.standard_normal(C).astype(dtype) if affine else None
    return x, gamma, beta


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_cpu_batchnorm_train_forward_and_backward(shape, dtype, affine):
    rng = np.random.default_rng(21)
    x, gamma, beta = _bn_inputs(rng, shape, dtype, affine)
    eps = 1e-5
    got = cpu.batchnorm_forward_train(x, gamma, beta, eps)
    exp = ref.batchnorm_forward_train(x, gamma, beta, eps)
    for a, e in zip(got, exp):
        check_close(a, e, dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    _, mean, invstd = exp
    for a, e in zip(cpu.batchnorm_backward(gy, x, gamma, mean, invstd),
                    ref.batchnorm_backward(gy, x, gamma, mean, invstd)):
        check_close(a, e, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_cpu_batchnorm_eval(shape, dtype):
    rng = np.random.default_rng(22)
    x, gamma, beta = _bn_inputs(rng, shape, dtype)
    C = shape[1]
    rm = rng.standard_normal(C).astype(dtype)
    rv = (rng.random(C) + 0.5).astype(dtype)
    check_close(cpu.batchnorm_forward_eval(x, gamma, beta, rm, rv, 1e-3),
           ref.batchnorm_forward_eval(x, gamma, beta, rm, rv, 1e-3), dtype)
    check_close(cpu.batchnorm_forward_eval(x, None, None, rm, rv, 1e-3),
           ref.batchnorm_forward_eval(x, None, None, rm, rv, 1e-3), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cpu_batchnorm_noncontiguous(dtype):
    rng = np.random.default_rng(23)
    x, gamma, beta = _bn_inputs(rng, (4, 3, 5, 6), dtype)
    gy = rng.standard_normal(x.shape).astype(dtype)
    xv, gyv = noncontiguous(x), noncontiguous(gy)
    gv, bv = noncontiguous(gamma), noncontiguous(beta)
    exp = ref.batchnorm_forward_train(x, gamma, beta, 1e-5)
    for a, e in zip(cpu.batchnorm_forward_train(xv, gv, bv, 1e-5), exp):
        check_close(a, e, dtype)
    _, mean, invstd = exp
    for a, e in zip(cpu.batchnorm_backward(gyv, xv, gv, noncontiguous(mean), invstd),
                    ref.batchnorm_backward(gy, x, gamma, mean, invstd)):
        check_close(a, e, dtype)
    check_close(cpu.batchnorm_forward_eval(xv, gv, bv, mean, invstd, 1e-5),
           ref.batchnorm_forward_eval(x, gamma, beta, mean, invstd, 1e-5), dtype)


def test_cpu_batchnorm_float32_large_mean_is_accurate():
    """float64 accumulators: a large common offset does not destroy the variance."""
    rng = np.random.default_rng(24)
    x64 = rng.standard_normal((64, 4, 8, 8)) + 1000.0
    x = x64.astype(np.float32)
    _, mean, invstd = cpu.batchnorm_forward_train(x, None, None, 1e-5)
    _, mean64, invstd64 = ref.batchnorm_forward_train(x.astype(np.float64), None, None, 1e-5)
    np.testing.assert_allclose(mean, mean64, rtol=1e-6)
    np.testing.assert_allclose(invstd, invstd64, rtol=1e-4)


def test_cpu_batchnorm_propagates_nan():
    """The reductions may be reordered for SIMD, but NaN must still show up (no 'nnan')."""
    x = np.ones((4, 2, 3))
    x[1, 0, 2] = np.nan
    y, mean, invstd = cpu.batchnorm_forward_train(x, None, None, 1e-5)
    assert np.isnan(mean[0]) and np.isnan(y[:, 0]).all()
    assert np.isfinite(mean[1]) and np.isfinite(y[:, 1]).all()
    gx, gg, gb = cpu.batchnorm_backward(np.ones_like(x), x, None, mean, invstd)
    assert np.isnan(gx[:, 0]).all() and np.isfinite(gx[:, 1]).all()


@pytest.mark.parametrize("mod", [cpu, ref], ids=["cpu", "reference"])
def test_conv_empty_batch(mod):
    x, w, gy = np.zeros((0, 3, 5, 5)), np.ones((2, 3, 3, 3)), np.zeros((0, 2, 3, 3))
    assert mod.conv2d_forward(x, w, 1, 0, 1, 1).shape == (0, 2, 3, 3)
    assert mod.conv2d_grad_input(gy, w, x.shape, 1, 0, 1, 1).shape == (0, 3, 5, 5)
    gw = mod.conv2d_grad_weight(x, gy, w.shape, 1, 0, 1, 1)
    assert gw.shape == w.shape and not gw.any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [
    ((2, 1, 9, 9), (5, 1, 4, 4), (2, 2), (1, 1), (1, 1), 1),     # K = 16: direct kernels
    ((2, 16, 7, 7), (6, 8, 3, 3), (1, 1), (1, 1), (1, 1), 2),    # K = 72: im2col + BLAS
    ((2, 8, 9, 9), (1, 8, 3, 3), (1, 1), (1, 1), (1, 1), 1),     # one output channel
    ((2, 16, 3, 3), (6, 16, 3, 3), (1, 1), (0, 0), (1, 1), 1),   # one output pixel
    ((2, 1, 12, 12), (4, 1, 9, 9), (1, 1), (0, 0), (1, 1), 1),   # one input channel, K = 81
])
def test_cpu_conv_fused_bias_equals_adding_it(case, dtype):
    """The CPU kernels add the bias while they write the result; it must equal y + b."""
    import kernels
    rng = np.random.default_rng(3)
    x, w, gy = _conv_case_arrays(rng, case, dtype)
    xs, ws, s, p, d, g = case
    b_out = rng.standard_normal(ws[0]).astype(dtype)
    b_in = rng.standard_normal(xs[1]).astype(dtype)
    for mod in (cpu, kernels):
        y = mod.conv2d_forward(x, w, s, p, d, g, bias=b_out)
        check_close(y, ref.conv2d_forward(x, w, s, p, d, g) + b_out[:, None, None], dtype)
        gx = mod.conv2d_grad_input(gy, w, xs, s, p, d, g, bias=b_in)
        check_close(gx, ref.conv2d_grad_input(gy, w, xs, s, p, d, g) + b_in[:, None, None], dtype)
    with pytest.raises(ValueError, match="bias"):
        cpu.conv2d_forward(x, w, s, p, d, g, bias=b_out[:-1])


# ------------------------------------------- kept columns, fused activations, serial twins

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [
    ((2, 16, 9, 7), (12, 16, 4, 4), (2, 2), (1, 1), (1, 1), 1),
    ((2, 24, 6, 6), (6, 8, 3, 3), (1, 2), (2, 0), (2, 1), 3),      # groups, K = 72
    ((1, 9, 5, 6), (4, 9, 3, 3), (1, 1), (1, 1), (1, 1), 1),
])
def test_cpu_grad_weight_with_the_forwards_columns(case, dtype):
    """conv2d_forward(keep_columns=True) hands its im2col to conv2d_grad_weight: same result."""
    rng = np.random.default_rng(21)
    x, w, gy = _conv_case_arrays(rng, case, dtype)
    xs, ws, s, p, d, g = case
    y, cols = cpu.conv2d_forward(noncontiguous(x), w, s, p, d, g, keep_columns=True)
    assert cols is not None
    check_close(y, ref.conv2d_forward(x, w, s, p, d, g), dtype)
    check_close(cpu.conv2d_grad_weight(x, gy, ws, s, p, d, g, columns=cols),
                ref.conv2d_grad_weight(x, gy, ws, s, p, d, g), dtype)
    with pytest.raises(ValueError, match="columns of shape"):
        cpu.conv2d_grad_weight(x, gy, ws, s, p, d, g, columns=cols[:, 1:])


def test_cpu_columns_are_not_kept_when_too_big(monkeypatch):
    rng = np.random.default_rng(22)
    x, w, _ = _conv_case_arrays(rng, ((2, 16, 9, 7), (12, 16, 4, 4), (2, 2), (1, 1), (1, 1), 1),
                              np.float32)
    monkeypatch.setattr(cpu, "KEEP_COLUMNS_MAX_BYTES", 100)
    y, cols = cpu.conv2d_forward(x, w, 2, 1, 1, 1, keep_columns=True)
    assert cols is None


def _leaky(a, slope):
    return np.where(a > 0, a, a * slope)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("slope", [0.0, 0.2])
@pytest.mark.parametrize("case", [
    ((2, 16, 9, 7), (12, 16, 4, 4), (2, 2), (1, 1), (1, 1), 1),     # BLAS path
    ((3, 1, 8, 7), (5, 1, 4, 4), (2, 2), (1, 1), (1, 1), 1),        # direct path (K = 16)
    ((1, 6, 5, 5), (6, 2, 3, 3), (1, 1), (1, 1), (1, 1), 3),        # groups, batch 1
])
def test_cpu_conv_fused_bias_and_leaky_relu(case, slope, dtype):
    rng = np.random.default_rng(23)
    x, w, _ = _conv_case_arrays(rng, case, dtype)
    xs, ws, s, p, d, g = case
    b = rng.standard_normal(ws[0]).astype(dtype)
    expected = ref.conv2d_forward(x, w, s, p, d, g) + b.reshape(1, -1, 1, 1)
    got = cpu.conv2d_forward(x, w, s, p, d, g, bias=b, negative_slope=slope)
    check_close(got, _leaky(expected, slope), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3, 5, 5), (1, 2, 7), (6, 5)])
def test_cpu_batchnorm_fused_leaky_relu(shape, dtype):
    rng = np.random.default_rng(24)
    x = rng.standard_normal(shape).astype(dtype)
    gamma, beta = rng.standard_normal((2, shape[1])).astype(dtype)
    y, mean, invstd = ref.batchnorm_forward_train(x, gamma, beta, 1e-5)
    got = cpu.batchnorm_forward_train(noncontiguous(x), gamma, beta, 1e-5, negative_slope=0.1)
    check_close(got[0], _leaky(y, 0.1), dtype)
    check_close(got[1], mean, dtype)
    check_close(got[2], invstd, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cpu_parallel_twins_equal_serial_twins(monkeypatch, dtype):
    """Every kernel's prange twin gives the serial twin's result (to round-off: LLVM may
    vectorise the reassociated sums of the two compilations differently)."""
    rng = np.random.default_rng(25)
    cases = [((3, 16, 9, 7), (12, 16, 4, 4), (2, 2), (1, 1), (1, 1), 1),
             ((3, 2, 8, 7), (5, 2, 3, 3), (1, 1), (1, 1), (1, 1), 1)]
    xb = rng.standard_normal((5, 3, 4, 4)).astype(dtype)
    g3 = rng.standard_normal(3).astype(dtype)

    def everything():
        out = []
        for case in cases:
            x, w, gy = _conv_case_arrays(np.random.default_rng(26), case, dtype)
            out += list(conv_all(cpu, x, w, gy, case))
        y, m, s = cpu.batchnorm_forward_train(xb, g3, g3, 1e-5, negative_slope=0.2)
        out += [y, m, s, cpu.batchnorm_forward_eval(xb, g3, g3, m, s, 1e-5)]
        out += list(cpu.batchnorm_backward(xb, xb, g3, m, s))
        return out

    monkeypatch.setattr(cpu, "_loop", lambda par, ser, work: ser)
    serial = everything()
    monkeypatch.setattr(cpu, "_loop", lambda par, ser, work: par)
    for a, b in zip(everything(), serial):
        check_close(a, b, dtype)


@pytest.mark.parametrize("path", ["per-image", "one product"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(8))
def test_cpu_both_conv_paths_match_reference(seed, dtype, path, monkeypatch):
    """Force each of the two conv paths (per-image patches, one product per group) on
    random and edge shapes, whatever the column length."""
    if path == "per-image":
        monkeypatch.setattr(cpu, "PER_IMAGE_MAX_K", 10 ** 9)
    else:
        monkeypatch.setattr(cpu, "PER_IMAGE_MAX_K", 0)
    rng = np.random.default_rng(100 + seed)
    cases = [random_conv_case(rng, max_ch=6),
             ((2, 24, 6, 6), (6, 8, 3, 3), (1, 2), (2, 0), (2, 1), 3),
             ((1, 3, 7, 5), (4, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1)]
    case = cases[seed % 3] if seed < 3 else cases[0]
    x, w, gy = _conv_case_arrays(rng, case, dtype)
    xs, ws, s, p, d, g = case
    b_out, b_in = rng.standard_normal(ws[0]).astype(dtype), rng.standard_normal(xs[1]).astype(dtype)
    y, cols = cpu.conv2d_forward(noncontiguous(x), w, s, p, d, g, bias=b_out, negative_slope=0.3,
                                 keep_columns=True)
    check_close(y, _leaky(ref.conv2d_forward(x, w, s, p, d, g) + b_out.reshape(1, -1, 1, 1), 0.3),
                dtype)
    check_close(cpu.conv2d_grad_input(noncontiguous(gy), w, xs, s, p, d, g, bias=b_in),
                ref.conv2d_grad_input(gy, w, xs, s, p, d, g) + b_in.reshape(1, -1, 1, 1), dtype)
    expected_gw = ref.conv2d_grad_weight(x, gy, ws, s, p, d, g)
    check_close(cpu.conv2d_grad_weight(x, gy, ws, s, p, d, g), expected_gw, dtype)
    check_close(cpu.conv2d_grad_weight(x, gy, ws, s, p, d, g, columns=cols), expected_gw, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [
    ((2, 6, 7, 6), (4, 3, 3, 2), (1, 1), (1, 1), (2, 1), 2),     # groups, dilation, kh != kw
    ((3, 5, 5, 4), (5, 5, 3, 3), (1, 1), (0, 2), (1, 1), 1),     # asymmetric padding, p = k-1
    ((1, 4, 6, 6), (2, 4, 1, 1), (1, 1), (0, 0), (1, 1), 1),     # 1x1
])
def test_cpu_grad_input_as_adjoint_conv_matches_col2im(case, dtype, monkeypatch):
    """Stride 1, O <= C: the grad-input runs as the full convolution of gy with the flipped
    weight; it equals the reference and the col2im route on the same case, with a bias."""
    monkeypatch.setattr(cpu, "PER_IMAGE_MAX_K", 0)
    xs, ws, s, p, d, g = case
    assert cpu._Conv("t", xs, ws, s, p, d, g).adjoint_as_conv
    rng = np.random.default_rng(7)
    x, w, gy = _conv_case_arrays(rng, case, dtype)
    b_in = rng.standard_normal(xs[1]).astype(dtype)
    expected = ref.conv2d_grad_input(gy, w, xs, s, p, d, g) + b_in.reshape(1, -1, 1, 1)
    as_conv = cpu.conv2d_grad_input(noncontiguous(gy), w, xs, s, p, d, g, bias=b_in)
    check_close(as_conv, expected, dtype)
    monkeypatch.setattr(cpu._Conv, "adjoint_as_conv", property(lambda self: False))
    check_close(cpu.conv2d_grad_input(gy, w, xs, s, p, d, g, bias=b_in), expected, dtype)


def test_cpu_adjoint_as_conv_only_where_it_applies():
    """Strided layers, padding past the kernel's reach and O > C keep the col2im route."""
    def route(xs, ws, s, p):
        return cpu._Conv("t", xs, ws, s, p, 1, 1).adjoint_as_conv
    assert route((1, 4, 8, 8), (4, 4, 3, 3), 1, 1)
    assert not route((1, 4, 8, 8), (4, 4, 3, 3), 2, 1)
    assert not route((1, 4, 8, 8), (4, 4, 3, 3), 1, 3)
    assert not route((1, 4, 8, 8), (8, 4, 3, 3), 1, 1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [
    ((5, 6, 7, 6), (4, 3, 3, 2), (1, 1), (1, 1), (2, 1), 2),     # stride 1: grad-input as a conv
    ((4, 6, 8, 7), (6, 2, 3, 3), (2, 1), (1, 0), (1, 1), 3),     # strided: col2im per chunk
])
@pytest.mark.parametrize("chunk_bytes", [1, 3000])
def test_cpu_conv_in_image_chunks_matches_reference(case, dtype, chunk_bytes, monkeypatch):
    """Columns built a few images at a time (one image per chunk at 1 byte; a partial last
    chunk at 3000): forward, grad-input and grad-weight equal the reference."""
    monkeypatch.setattr(cpu, "PER_IMAGE_MAX_K", 0)
    monkeypatch.setattr(cpu, "COLUMN_CHUNK_BYTES", chunk_bytes)
    xs, ws, s, p, d, g = case
    assert len(cpu._Conv("t", xs, ws, s, p, d, g).image_chunks(np.dtype(dtype).itemsize)) > 1
    x, w, gy = _conv_case_arrays(np.random.default_rng(8), case, dtype)
    y, cols = cpu.conv2d_forward(x, w, s, p, d, g, keep_columns=True)
    assert cols is None                                   # no whole column matrix to keep
    check_close(y, ref.conv2d_forward(x, w, s, p, d, g), dtype)
    check_close(cpu.conv2d_grad_input(gy, w, xs, s, p, d, g), ref.conv2d_grad_input(gy, w, xs, s, p, d, g),
                dtype)
    check_close(cpu.conv2d_grad_weight(x, gy, ws, s, p, d, g), ref.conv2d_grad_weight(x, gy, ws, s, p, d, g),
                dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cpu_pointwise_conv_uses_rows_as_columns(dtype, monkeypatch):
    """A 1x1 stride-1 conv takes x's channels-last rows as its columns (no im2col):
    forward, both adjoints and the kept columns equal the reference."""
    monkeypatch.setattr(cpu, "PER_IMAGE_MAX_K", 0)
    case = ((3, 5, 4, 6), (7, 5, 1, 1), (1, 1), (0, 0), (1, 1), 1)
    xs, ws, s, p, d, g = case
    assert cpu._Conv("t", xs, ws, s, p, d, g).pointwise
    assert not cpu._Conv("t", xs, ws, s, (1, 1), d, g).pointwise
    x, w, gy = _conv_case_arrays(np.random.default_rng(9), case, dtype)
    y, cols = cpu.conv2d_forward(noncontiguous(x), w, s, p, d, g, keep_columns=True)
    check_close(y, ref.conv2d_forward(x, w, s, p, d, g), dtype)
    expected_gw = ref.conv2d_grad_weight(x, gy, ws, s, p, d, g)
    check_close(cpu.conv2d_grad_weight(x, gy, ws, s, p, d, g, columns=cols), expected_gw, dtype)
    check_close(cpu.conv2d_grad_weight(x, gy, ws, s, p, d, g), expected_gw, dtype)
    check_close(cpu.conv2d_grad_input(gy, w, xs, s, p, d, g), ref.conv2d_grad_input(gy, w, xs, s, p, d, g),
                dtype)
