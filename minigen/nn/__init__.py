"""Neural-network building blocks with PyTorch's names.

    import minigen.nn as nn
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 1))
    for name, p in model.named_parameters(): print(name, p.shape)

    module.py       Module (the base class), registration, state dicts, to(device)
    parameter.py    Parameter
    containers.py   Sequential, ModuleList, ModuleDict
    linear.py       Identity, Linear, Embedding
    conv.py         Conv2d, ConvTranspose2d, Upsample
    masked.py       MaskedLinear, MaskedConv2d (autoregressive connectivity)
    norm.py         BatchNorm1d/2d, LayerNorm, GroupNorm, InstanceNorm2d
    activation.py   ReLU, LeakyReLU, ELU, Softplus, SiLU, GELU, Sigmoid, Tanh, Softmax, LogSoftmax
    pool.py         MaxPool2d, AvgPool2d
    dropout.py      Dropout
    shape.py        Flatten, Unflatten
    loss.py         MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss, NLLLoss, CrossEntropyLoss, GaussianNLLLoss
    init.py         nn.init: normal_, uniform_, xavier_*, kaiming_*, ...
    utils.py        nn.utils: clip_grad_norm_, clip_grad_value_
    gan_layers.py   MinibatchDiscrimination, MinibatchStdDev, EqualizedLinear, EqualizedConv2d,
                    PixelNorm, AdaIN, NoiseInjection (the GANs beyond DCGAN)
"""
from minigen.nn.parameter import Parameter  # noqa: F401
from minigen.nn.module import Module, StateDictError, IncompatibleKeys  # noqa: F401
from minigen.nn.containers import Sequential, ModuleList, ModuleDict  # noqa: F401
from minigen.nn.linear import Identity, Linear, Embedding  # noqa: F401
from minigen.nn.conv import Conv2d, ConvTranspose2d, Upsample  # noqa: F401
from minigen.nn.masked import MaskedLinear, MaskedConv2d  # noqa: F401
from minigen.nn.norm import (  # noqa: F401
    BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, InstanceNorm2d)
from minigen.nn.activation import (  # noqa: F401
    ReLU, LeakyReLU, ELU, Softplus, SiLU, GELU, Sigmoid, Tanh, Softmax, LogSoftmax)
from minigen.nn.pool import MaxPool2d, AvgPool2d  # noqa: F401
from minigen.nn.dropout import Dropout  # noqa: F401
from minigen.nn.shape import Flatten, Unflatten  # noqa: F401
from minigen.nn.loss import (  # noqa: F401
    MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss, NLLLoss, CrossEntropyLoss, GaussianNLLLoss)
from minigen.nn.gan_layers import (  # noqa: F401
    MinibatchDiscrimination, MinibatchStdDev, EqualizedLinear, EqualizedConv2d, PixelNorm, AdaIN,
    NoiseInjection)
from minigen.nn import init, utils  # noqa: F401
from minigen import functional  # noqa: F401  (nn.functional, as in torch)
