"""Identity, Linear (y = x W^T + b) and Embedding (a table of learned rows)."""

from minigen import backend
from minigen import functional as F
from minigen.nn import init
from minigen.nn._factory import empty_parameter, register_weight_and_bias
from minigen.nn.module import Module


class Identity(Module):
    """Returns its input unchanged (a placeholder; accepts and ignores any arguments)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """y = x W^T + b for x of shape (..., in_features).

    weight: (out_features, in_features), bias: (out_features,).
    Default initialisation, as PyTorch: weight by kaiming_uniform_(a=sqrt(5)), which is
    U(-1/sqrt(in_features), 1/sqrt(in_features)), and bias from the same uniform.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        register_weight_and_bias(self, (self.out_features, self.in_features),
                                 (self.out_features,) if bias else None, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.linear_default_(self.weight, self.bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Embedding(Module):
    """A lookup table: row i of `weight` (num_embeddings, embedding_dim) for index i.

    Input: an integer array or Tensor of any shape; output: that shape + (embedding_dim,).
    Initialised N(0, 1), as PyTorch. With `padding_idx`, that row starts at zero and
    receives no gradient (its gradient is masked by a hook on the weight).
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, device=None, dtype=None,
                 _weight=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"padding_idx {padding_idx} is outside [0, {self.num_embeddings})")
            padding_idx = padding_idx % self.num_embeddings
        self.padding_idx = padding_idx
        if _weight is not None:
            from minigen.nn.parameter import Parameter
            self.weight = Parameter(_weight)
        else:
            self.weight = empty_parameter((self.num_embeddings, self.embedding_dim), device, dtype)
            self.reset_parameters()
        if padding_idx is not None:
            self.weight.register_hook(self._mask_padding_grad)

    def _mask_padding_grad(self, grad):
        xp = backend.get_array_module(grad.data)
        keep = xp.ones((grad.shape[0], 1), dtype=grad.dtype)
        keep[self.padding_idx] = 0
        return grad * keep

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            data = self.weight.data.copy()
            data[self.padding_idx] = 0
            self.weight.data = data

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding holding a copy of `embeddings` (2-D); frozen unless freeze=False."""
        from minigen.tensor import Tensor
        array = embeddings.data if isinstance(embeddings, Tensor) else embeddings
        if array.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained needs a 2-D table, got shape {array.shape}")
        module = cls(array.shape[0], array.shape[1], padding_idx=padding_idx, _weight=array.copy())
        module.weight.requires_grad_(not freeze)
        return module

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
