"""Dropout: randomly zero activations while training (a regulariser)."""
from minigen import functional as F
from minigen.nn.module import Module


class Dropout(Module):
    """In training mode each value is zeroed with probability p and the survivors are
    scaled by 1 / (1 - p), so the expected output equals the input; in eval mode it
    is the identity. Masks come from minigen's seeded generator (`mg.manual_seed`)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
