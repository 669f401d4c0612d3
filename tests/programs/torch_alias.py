"""`import torch_alias as torch`: PyTorch's module layout onto minigen, for the programs here.

A program written for PyTorch runs on minigen when only its import lines change, e.g.

    import torch                                  ->  import torch_alias as torch
    from torch import nn, optim                   ->  from torch_alias import nn, optim
    import torch.nn.functional as F               ->  from torch_alias import F
    from torch.utils.data import DataLoader       ->  from torch_alias import DataLoader

Everything else (`torch.randn`, `torch.no_grad`, `torch.device`, ...) is minigen's own
name, looked up when used. This file only maps module paths; it adds no behaviour.
"""
import types

import minigen
from minigen import nn, optim, functional as F  # noqa: F401
from minigen.optim import lr_scheduler  # noqa: F401
from minigen.optim.lr_scheduler import StepLR  # noqa: F401
from minigen.data import DataLoader, ArrayDataset as TensorDataset  # noqa: F401

# torch.utils.data.DataLoader / TensorDataset
utils = types.SimpleNamespace(data=types.SimpleNamespace(DataLoader=DataLoader,
                                                         TensorDataset=TensorDataset))


def __getattr__(name):
    """torch.<name> is minigen.<name> (looked up at use, so it follows minigen's changes)."""
    try:
        return getattr(minigen, name)
    except AttributeError:
        raise AttributeError(f"minigen has no {name!r} (a PyTorch program used torch.{name})") from None
