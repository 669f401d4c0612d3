"""Optimizers, learning-rate schedules and parameter averaging, with PyTorch's names.

    import minigen.optim as optim
    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    ema = optim.EMA(model, decay=0.999)

    optimizer.py     Optimizer (param groups, zero_grad, step, state_dict)
    sgd.py           SGD (momentum, dampening, nesterov, weight_decay)
    adam.py          Adam (amsgrad), AdamW (decoupled weight decay)
    rmsprop.py       RMSprop (momentum, centered)
    adadelta.py      Adadelta
    adagrad.py       Adagrad (lr_decay, initial_accumulator_value)
    lr_scheduler.py  StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR,
                     LinearLR, LinearWarmup, warmup_cosine
    ema.py           EMA
Every update rule is written out in its class docstring and in a few lines of array code.
"""
from minigen.optim.optimizer import Optimizer  # noqa: F401
from minigen.optim.sgd import SGD  # noqa: F401
from minigen.optim.adam import Adam, AdamW  # noqa: F401
from minigen.optim.rmsprop import RMSprop  # noqa: F401
from minigen.optim.adadelta import Adadelta  # noqa: F401
from minigen.optim.adagrad import Adagrad  # noqa: F401
from minigen.optim.ema import EMA  # noqa: F401
from minigen.optim import lr_scheduler  # noqa: F401
from minigen.optim.lr_scheduler import (  # noqa: F401
    LRScheduler, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR, LinearLR,
    LinearWarmup, warmup_cosine)
from minigen.nn.utils import clip_grad_norm_, clip_grad_value_  # noqa: F401
