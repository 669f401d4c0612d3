"""Flatten and Unflatten: reshape between images and vectors inside a Sequential."""
from minigen.function import ShapeError
from minigen.nn.module import Module


class Flatten(Module):
    """Merge axes start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis `dim` into `unflattened_size`: Unflatten(1, (C, H, W)) turns
    (N, C*H*W) back into (N, C, H, W). One entry may be -1."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = int(dim), tuple(int(s) for s in unflattened_size)

    def forward(self, x):
        dim = self.dim % x.ndim
        sizes = list(self.unflattened_size)
        known = 1
        for s in sizes:
            known *= s if s != -1 else 1
        if sizes.count(-1) > 1 or (sizes.count(-1) == 0 and known != x.shape[dim]) \
                or (known == 0 or x.shape[dim] % known):
            raise ShapeError(f"Unflatten: axis {self.dim} of size {x.shape[dim]} (input shape "
                             f"{x.shape}) cannot be split into {self.unflattened_size}")
        return x.reshape(x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
