"""Elementwise operations: arithmetic, exp/log, activations.

Each class computes y = f(x) in `forward` on arrays and the vector-Jacobian product
gx = gy * f'(x) in `backward` with engine ops, so the backward is differentiable again.
Binary ops broadcast like NumPy; their backward sums the gradient back to each input's
shape (`sum_to`), which is the derivative of broadcasting.
"""

import math

import numpy as np

from minigen import backend, grad_mode

from minigen.function import Function

from minigen.tensor import Tensor

from minigen.ops.shape import sum_to


def _xp(a):
    return backend.get_array_module(a)


def constant(array, like):
    """A constant Tensor (no gradient) of `like`'s dtype: masks, signs, slopes."""
    return Tensor(array.astype(like.dtype, copy=False))


def _only_needed(x, gradient):
    """gradient() when input x needs one, else None (skips work for constants like 2.0)."""
    return gradient() if x.requires_grad else None


# ------------------------------------------- gradients of piecewise-linear ops
class DependsOn(Function):
    """y = g, recorded as depending on x too, with derivative 0:   gg = gy,  gx = 0.

    The gradient of a piecewise-linear op (relu, abs, leaky_relu, max_pool2d, ...) is gy
    times a slope that is constant between the kinks of x, or, for an op linear in x
    (avg_pool2d), does not involve x at all. Either way it depends on x with derivative
    0 where defined. Recording that dependence makes a gradient taken with
    create_graph=True differentiable with respect to x (to zeros) as in PyTorch, so
    `mg.grad(mg.grad(relu(x).sum(), x, create_graph=True)[0].sum(), x)` gives zeros
    instead of raising (a gradient penalty straight on a ReLU input).
    """

    reads_inputs = False     # only x's shape

    def forward(self, g, x):
        return g

    def backward(self, gy):
        x = self.inputs[1]
        return gy, (self.zeros(x.shape, x.dtype) if x.requires_grad else None)


def depends_on(g, x):
    """`g` (a gradient built from x's kinks) recorded as depending on x (see DependsOn)
    when a graph of the gradient is being recorded and `g` has none of its own; else `g`.

    A gradient that already carries a graph (gy came from weights) is left as it is:
    inputs reached only through the kinks then get no gradient (None) where PyTorch
    gives zeros; the engine's tests rely on that (a penalty's None for batch norm's beta).
    """
    if grad_mode.enabled and x.requires_grad and not g.requires_grad:
        return DependsOn()(g, x)
    return g


class PassThrough(Function):
    """y = x.   gx = gy, recorded as depending on x (DependsOn).

    Put in front of an op that is linear in x (avg_pool2d), whose gradient would
    otherwise not involve x at all: then, as in PyTorch, that gradient taken with
    create_graph=True can be differentiated with respect to x (to zeros).
    """

    reads_inputs = False

    def forward(self, x):
        return x

    def backward(self, gy):
        return depends_on(gy, self.inputs[0])


# ------------------------------------------------------------------- arithmetic
class Add(Function):
    """y = a + b.   da = gy,  db = gy  (each summed back to its input's shape)."""

    reads_inputs = False     # only their shapes: changing a or b later is harmless

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        return (sum_to(gy, a.shape) if a.requires_grad else None,
                sum_to(gy, b.shape) if b.requires_grad else None)


def add(a, b):
    """y = a + b (broadcasting).

    dy/da = 1, dy/db = 1 (each gradient summed back to its input's shape).
    """
    return Add()(a, b)


class Sub(Function):
    """y = a - b.   da = gy,  db = -gy."""

    reads_inputs = False     # only their shapes: changing a or b later is harmless

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        return (sum_to(gy, a.shape) if a.requires_grad else None,
                sum_to(-gy, b.shape) if b.requires_grad else None)


def sub(a, b):
    """y = a - b (broadcasting).

    dy/da = 1, dy/db = -1.
    """
    return Sub()(a, b)


class Mul(Function):
    """y = a * b.   da = gy * b,  db = gy * a."""

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        return (sum_to(gy * b, a.shape) if a.requires_grad else None,
                sum_to(gy * a, b.shape) if b.requires_grad else None)


def mul(a, b):
    """y = a * b (broadcasting).

    dy/da = b, dy/db = a.
    """
    return Mul()(a, b)


class Div(Function):
    """y = a / b.   da = gy / b,  db = -gy * a / b**2."""

    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        ga = gy / b
        return (sum_to(ga, a.shape) if a.requires_grad else None,
                sum_to(-ga * a / b, b.shape) if b.requires_grad else None)


def div(a, b):
    """y = a / b (broadcasting).

    dy/da = 1 / b, dy/db = -a / b^2.
    """
    return Div()(a, b)


class Neg(Function):
    """y = -x.   gx = -gy."""

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


def neg(x):
    """y = -x.

    dy/dx = -1.
    """
    return Neg()(x)


class PowScalar(Function):
    """y = x ** c for a constant number c.   gx = gy * c * x ** (c - 1)."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x ** self.c

    def backward(self, gy):
        x, = self.inputs
        if self.c == 0:
            return gy * 0.0
        return gy * self.c * pow_scalar(x, self.c - 1)


def pow_scalar(x, c):
    """y = x^c for a constant number c.

    dy/dx = c x^(c - 1).
    """
    return PowScalar(c)(x)


class Pow(Function):
    """y = a ** b with a tensor exponent.

    da = gy * b * a ** (b - 1)
    db = gy * a ** b * log(a)      (defined for a > 0; taken as 0 where a == 0)
    """

    def forward(self, a, b):
        return a ** b

    def backward(self, gy):
        a, b = self.inputs
        y = self.output()
        ga = gy * b * (a ** (b - 1.0))
        xp = _xp(a.data)
        safe_a = where(a.data > 0, a, constant(xp.ones_like(a.data), a))
        gb = gy * y * log(safe_a)
        return sum_to(ga, a.shape), sum_to(gb, b.shape)


def pow(a, b):
    """y = a^b; a constant Python number b uses the cheaper PowScalar.

    dy/da = b a^(b - 1), dy/db = a^b log(a) (taken as 0 where a = 0).
    """
    if isinstance(b, (int, float)) and isinstance(a, Tensor):
        return PowScalar(b)(a)
    return Pow()(a, b)


# -------------------------------------------------------------- exp, log and kin
class Exp(Function):
    """y = exp(x).   gx = gy * y."""

    def forward(self, x):
        return _xp(x).exp(x)

    def backward(self, gy):
        return gy * self.output()


def exp(x):
    """y = exp(x).

    dy/dx = exp(x) = y.
    """
    return Exp()(x)


class Log(Function):
    """y = log(x).   gx = gy / x."""

    def forward(self, x):
        return _xp(x).log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


def log(x):
    """y = log(x).

    dy/dx = 1 / x.
    """
    return Log()(x)


class Log1p(Function):
    """y = log(1 + x), accurate for small x.   gx = gy / (1 + x)."""

    def forward(self, x):
        return _xp(x).log1p(x)

    def backward(self, gy):
        return gy / (1.0 + self.inputs[0])


def log1p(x):
    """y = log(1 + x), accurate for small x.

    dy/dx = 1 / (1 + x).
    """
    return Log1p()(x)


class Sqrt(Function):
    """y = sqrt(x).   gx = gy / (2 y)."""

    def forward(self, x):
        return _xp(x).sqrt(x)

    def backward(self, gy):
        return gy / (2.0 * self.output())


def sqrt(x):
    """y = sqrt(x).

    dy/dx = 1 / (2 y).
    """
    return Sqrt()(x)


class Abs(Function):
    """y = |x|.   gx = gy * sign(x)   (sign(0) = 0, as in PyTorch)."""

    def forward(self, x):
        return _xp(x).abs(x)

    def backward(self, gy):
        x, = self.inputs
        return depends_on(gy * constant(_xp(x.data).sign(x.data), x), x)


def abs(x):
    """y = |x|.

    dy/dx = sign(x) (0 at x = 0, as in PyTorch); d2y/dx2 = 0.
    """
    return Abs()(x)


class Sin(Function):
    """y = sin(x).   gx = gy * cos(x)."""

    def forward(self, x):
        return _xp(x).sin(x)

    def backward(self, gy):
        return gy * cos(self.inputs[0])


def sin(x):
    """y = sin(x).

    dy/dx = cos(x).
    """
    return Sin()(x)


class Cos(Function):
    """y = cos(x).   gx = -gy * sin(x)."""

    def forward(self, x):
        return _xp(x).cos(x)

    def backward(self, gy):
        return -gy * sin(self.inputs[0])


def cos(x):
    """y = cos(x).

    dy/dx = -sin(x).
    """
    return Cos()(x)


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt.   gx = gy * 2/sqrt(pi) * exp(-x^2)."""

    def forward(self, x):
        if backend.device_of(x) == "cuda":
            from cupyx.scipy.special import erf as erf_fn
        else:
            from scipy.special import erf as erf_fn
        return erf_fn(x).astype(x.dtype, copy=False)

    def backward(self, gy):
        x, = self.inputs
        return gy * (2.0 / math.sqrt(math.pi)) * exp(-(x * x))


def erf(x):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt.

    dy/dx = 2/sqrt(pi) exp(-x^2).
    """
    return Erf()(x)


class Clip(Function):
    """y = min(max(x, lo), hi).   gx = gy where lo <= x <= hi, else 0."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return _xp(x).clip(x, self.lo, self.hi)

    def backward(self, gy):
        x, = self.inputs
        inside = _xp(x.data).ones_like(x.data, dtype=bool)
        if self.lo is not None:
            inside &= x.data >= self.lo
        if self.hi is not None:
            inside &= x.data <= self.hi
        return gy * constant(inside, x)


def clip(x, min=None, max=None):
    """y = min(max(x, min), max) (torch.clamp); give at least one bound.

    dy/dx = 1 where min <= x <= max, else 0.
    """
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    return Clip(min, max)(x)


class Maximum(Function):
    """y = max(a, b) elementwise.   da = gy where a > b, db = gy where b > a; ties split gy in half."""

    def forward(self, a, b):
        return _xp(a).maximum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        share_a = (a.data > b.data) + 0.5 * (a.data == b.data)
        return _split_by_share(gy, share_a, a, b)


def maximum(a, b):
    """y = max(a, b) elementwise.

    dy/da = 1 where a > b, dy/db = 1 where b > a; ties give 1/2 to each.
    """
    return Maximum()(a, b)


class Minimum(Function):
    """y = min(a, b) elementwise.   da = gy where a < b, db = gy where b < a; ties split gy in half."""

    def forward(self, a, b):
        return _xp(a).minimum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        share_a = (a.data < b.data) + 0.5 * (a.data == b.data)
        return _split_by_share(gy, share_a, a, b)


def minimum(a, b):
    """y = min(a, b) elementwise.

    dy/da = 1 where a < b, dy/db = 1 where b < a; ties give 1/2 to each.
    """
    return Minimum()(a, b)


def _split_by_share(gy, share_a, a, b):
    """Send the fraction `share_a` of gy to a and the rest to b (for max/min)."""
    share_a = constant(share_a, gy)
    return sum_to(gy * share_a, a.shape), sum_to(gy * (1.0 - share_a), b.shape)


class Where(Function):
    """y = a where cond else b  (cond is a constant boolean array).

    da = gy where cond else 0;  db = gy where not cond else 0.
    """

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        return _xp(a).where(self.cond, a, b)

    def backward(self, gy):
        a, b = self.inputs
        cond = _xp(gy.data).broadcast_to(self.cond, gy.shape)
        zero = constant(_xp(gy.data).zeros((), dtype=gy.dtype), gy)
        return sum_to(where(cond, gy, zero), a.shape), sum_to(where(cond, zero, gy), b.shape)


def where(cond, a, b):
    """y = a where cond else b; cond is a boolean array or Tensor (no gradient).

    dy/da = 1 where cond else 0, dy/db = 1 where not cond else 0.
    """
    cond = cond.data if isinstance(cond, Tensor) else cond
    ref = a if isinstance(a, Tensor) else b
    if isinstance(ref, Tensor):
        cond = backend.as_array(cond, like=ref.data)
    return Where(cond.astype(bool, copy=False))(a, b)


# ----------------------------------------------------------------- activations
class Tanh(Function):
    """y = tanh(x).   gx = gy * (1 - y^2)."""

    def forward(self, x):
        return _xp(x).tanh(x)

    def backward(self, gy):
        y = self.output()
        return gy * (1.0 - y * y)


def tanh(x):
    """y = tanh(x).

    dy/dx = 1 - y^2.
    """
    return Tanh()(x)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)).   gx = gy * y * (1 - y).

    Computed from e = exp(-|x|), which never overflows: y = 1 / (1 + e) for x >= 0 and
    y = e / (1 + e) for x < 0. The negative side keeps its relative precision, so a
    float32 sigmoid underflows to 0 only near x = -88 (as PyTorch's), not at x = -17 as
    0.5 * tanh(x / 2) + 0.5 would.
    """

    def forward(self, x):
        xp = _xp(x)
        e = xp.exp(-xp.abs(x))
        # where(x >= 0, 1, e) without a branch per value (np.where mispredicts on mixed
        # signs: 9 ms against 0.4 ms for 800k float32 values here); exact, as 0 < e <= 1
        return xp.maximum((x >= 0).astype(x.dtype), e) / (1.0 + e)

    def backward(self, gy):
        y = self.output()
        return gy * y * (1.0 - y)


def sigmoid(x):
    """y = 1 / (1 + exp(-x)).

    dy/dx = y (1 - y).
    """
    return Sigmoid()(x)


class ReLU(Function):
    """y = max(x, 0).   gx = gy where x > 0, else 0."""

    def forward(self, x):
        return _xp(x).maximum(x, 0)

    def backward(self, gy):
        x, = self.inputs
        return depends_on(gy * constant(x.data > 0, x), x)


def relu(x):
    """y = max(x, 0).

    dy/dx = 1 where x > 0, else 0; d2y/dx2 = 0.
    """
    return ReLU()(x)


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x.   gx = gy * (1 if x > 0 else slope)."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        xp = _xp(x)
        if 0.0 <= self.slope <= 1.0:         # the same values, branch-free (see Sigmoid)
            return xp.maximum(x, x * self.slope)
        return xp.where(x > 0, x, x * self.slope)

    def backward(self, gy):
        x, = self.inputs
        xp = _xp(x.data)
        if 0.0 <= self.slope <= 1.0:         # 1 where x > 0, else slope; branch-free
            mask = xp.maximum((x.data > 0).astype(x.dtype), x.dtype.type(self.slope))
        else:
            mask = xp.where(x.data > 0, 1.0, self.slope)
        return depends_on(gy * constant(mask, x), x)


def leaky_relu(x, negative_slope=0.01):
    """y = x if x > 0 else negative_slope * x.

    dy/dx = 1 where x > 0, else negative_slope; d2y/dx2 = 0.
    """
    return LeakyReLU(negative_slope)(x)


class ELU(Function):
    """y = x if x > 0 else alpha * (exp(x) - 1).

    gx = gy if x > 0 else gy * alpha * exp(x) = gy * (y + alpha).
    """

    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, x):
        xp = _xp(x)
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, gy):
        x, = self.inputs
        return where(x.data > 0, gy, gy * (self.output() + self.alpha))


def elu(x, alpha=1.0):
    """y = x if x > 0 else alpha (exp(x) - 1).

    dy/dx = 1 where x > 0, else alpha exp(x) = y + alpha.
    """
    return ELU(alpha)(x)


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta.   gx = gy * sigmoid(beta x).

    Computed as max(x, 0) + log1p(exp(-|beta x|)) / beta: no overflow for large x.
    """

    def __init__(self, beta=1.0):
        self.beta = beta

    def forward(self, x):
        xp = _xp(x)
        bx = self.beta * x
        return (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / self.beta

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0] * self.beta)


def softplus(x, beta=1.0):
    """y = log(1 + exp(beta x)) / beta.

    dy/dx = sigmoid(beta x).
    """
    return Softplus(beta)(x)


class SiLU(Function):
    """y = x * sigmoid(x).   gx = gy * s * (1 + x * (1 - s)),  s = sigmoid(x)."""

    def forward(self, x):
        return x * (0.5 * _xp(x).tanh(0.5 * x) + 0.5)

    def backward(self, gy):
        x, = self.inputs
        s = sigmoid(x)
        return gy * s * (1.0 + x * (1.0 - s))


def silu(x):
    """y = x sigmoid(x).

    dy/dx = s (1 + x (1 - s)), s = sigmoid(x).
    """
    return SiLU()(x)


class GELU(Function):
    """y = x * Phi(x), Phi the standard normal CDF.   gx = gy * (Phi(x) + x * phi(x)).

    Phi(x) = (1 + erf(x / sqrt 2)) / 2,  phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
    """

    def forward(self, x):
        return x * Erf().forward(x / math.sqrt(2.0)) * 0.5 + x * 0.5

    def backward(self, gy):
        x, = self.inputs
        cdf = 0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))
        pdf = exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))
        return gy * (cdf + x * pdf)


def gelu(x, approximate="none"):
    """y = x Phi(x), Phi the standard normal CDF; approximate='tanh' uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (built from engine ops).

    dy/dx = Phi(x) + x phi(x), phi the standard normal density.
    """
    if approximate == "none":
        return GELU()(x)
    if approximate == "tanh":
        inner = (x + 0.044715 * x * x * x) * math.sqrt(2.0 / math.pi)
        return 0.5 * x * (1.0 + tanh(inner))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


class Cast(Function):
    """y = x converted to another dtype.   gx = gy converted back to x's dtype."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.input_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return cast(gy, self.input_dtype)


def cast(x, dtype):
    """y = x converted to `dtype`.

    dy/dx = 1 (the gradient converted back to x's dtype).
    """
    return Cast(dtype)(x)


class ToDevice(Function):
    """y = x copied to another device.   gx = gy copied back."""

    def __init__(self, device):
        self.device = backend.check_device_name(device)

    def forward(self, x):
        self.input_device = backend.device_of(x)
        return backend.to_device(x, self.device)

    def backward(self, gy):
        return to_device(gy, self.input_device)

    def _to_tensors(self, inputs):   # the one op whose input may live on another device
        return list(inputs)


def to_device(x, device):
    """y = x copied to `device`.

    dy/dx = 1 (the gradient copied back).
    """
    return ToDevice(device)(x)


# ------------------------------------------------------------------------ cases
# Checked forward (against NumPy), first and second order by the test-suite; collected
# by minigen/op_cases.py (see there for the domains).
from minigen.op_cases import OpCase, binary, unary  # noqa: E402


def _np_erf(x):
    from scipy.special import erf as scipy_erf
    return scipy_erf(x)


def _np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


CASES = [
    binary("add", lambda a, b: a + b, reference=np.add),
    binary("sub", lambda a, b: a - b, reference=np.subtract),
    binary("mul", lambda a, b: a * b, reference=np.multiply),
    binary("div", lambda a, b: a / b, ("real", "positive"), reference=np.divide),
    unary("neg", lambda x: -x, reference=np.negative),
    unary("pow (scalar exponent)", lambda x: x ** 3.0, reference=lambda x: x ** 3.0),
    unary("pow (fractional exponent)", lambda x: x ** 1.5, "positive", reference=lambda x: x ** 1.5),
    binary("pow (tensor exponent)", lambda a, b: a ** b, ("positive", "real"), reference=np.power),
    unary("exp", exp, reference=np.exp),
    unary("log", log, "positive", reference=np.log),
    unary("log1p", log1p, "positive", reference=np.log1p),
    unary("sqrt", sqrt, "positive", reference=np.sqrt),
    unary("abs", abs, "away", reference=np.abs),
    unary("sin", sin, reference=np.sin),
    unary("cos", cos, reference=np.cos),
    unary("erf", erf, reference=_np_erf),
    unary("clip", lambda x: clip(x, -0.5, 0.5), reference=lambda x: np.clip(x, -0.5, 0.5)),
    binary("maximum", maximum, reference=np.maximum),
    binary("minimum", minimum, reference=np.minimum),
    binary("where", lambda a, b: where(a.data > 0, a, b), reference=lambda a, b: np.where(a > 0, a, b)),
    unary("tanh", tanh, reference=np.tanh),
    unary("sigmoid", sigmoid, reference=_np_sigmoid),
    unary("relu", relu, "away", reference=lambda x: np.maximum(x, 0.0)),
    unary("leaky_relu", lambda x: leaky_relu(x, 0.2), "away", reference=lambda x: np.where(x > 0, x, 0.2 * x)),
    unary("elu", lambda x: elu(x, 1.3), "away", reference=lambda x: np.where(x > 0, x, 1.3 * np.expm1(x))),
    unary("softplus", lambda x: softplus(x, beta=2.0), reference=lambda x: np.log1p(np.exp(2.0 * x)) / 2.0),
    unary("silu", silu, reference=lambda x: x * _np_sigmoid(x)),
    unary("gelu", gelu, reference=lambda x: 0.5 * x * (1.0 + _np_erf(x / math.sqrt(2.0)))),
    unary("gelu (tanh approximation)", lambda x: gelu(x, approximate="tanh"),
          reference=lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))),
    OpCase("cast (astype)", lambda x: cast(x, x.dtype) * x, [(3,)], reference=lambda x: x * x),
    OpCase("to_device (cpu -> cpu)", lambda x: to_device(x, "cpu") * x, [(3,)], reference=lambda x: x * x),
]
