"""Parameter: a Tensor that a Module learns.

A Parameter is an ordinary leaf Tensor with `requires_grad=True`. The only thing that
makes it special is its type: assigning one to an attribute of a `Module`
(`self.weight = Parameter(...)`) registers it, so that `model.parameters()`,
`state_dict()`, `to(device)` and the optimizers find it. A plain Tensor assigned to a
Module attribute is *not* registered (use `register_buffer` for fixed arrays).
"""
from minigen.tensor import Tensor


class Parameter(Tensor):
    """A learnable leaf tensor: `Parameter(array_or_tensor, requires_grad=True)`.

    Built from a Tensor it shares that tensor's array (no copy), like PyTorch.
    """

    def __init__(self, data, requires_grad=True, name=None):
        if isinstance(data, Tensor):
            name = name if name is not None else data.name
            data = data.data
        super().__init__(data, requires_grad=requires_grad, name=name)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
