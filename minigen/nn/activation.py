"""One Module per activation function; each just calls its function in minigen.functional.

`inplace=True` is accepted (so PyTorch code runs unchanged) and ignored: minigen never
overwrites a tensor, because the backward pass may still need the old values.
"""
from minigen import functional as F
from minigen.nn.module import Module


class ReLU(Module):
    """max(x, 0)."""

    def __init__(self, inplace=False):
        super().__init__()

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, alpha (exp(x) - 1) otherwise."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, a smooth ReLU."""

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = float(beta)

    def forward(self, x):
        return F.softplus(x, self.beta)

    def extra_repr(self):
        return f"beta={self.beta}"


class SiLU(Module):
    """x * sigmoid(x) (also called swish)."""

    def __init__(self, inplace=False):
        super().__init__()

    def forward(self, x):
        return F.silu(x)


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' for the tanh formula."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate='{self.approximate}'"


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x):
        return F.tanh(x)


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim`.

    Unlike PyTorch (which guesses a dim with a warning), `dim` must be given.
    """

    def __init__(self, dim=None):
        super().__init__()
        if dim is None:
            raise TypeError(f"{type(self).__name__} needs dim, the axis that sums to one "
                            f"(e.g. {type(self).__name__}(dim=1) for (N, classes) logits)")
        self.dim = int(dim)

    def forward(self, x):
        return F.softmax(x, dim=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """x - logsumexp(x) along `dim` (the log of Softmax, computed stably)."""

    def forward(self, x):
        return F.log_softmax(x, dim=self.dim)
