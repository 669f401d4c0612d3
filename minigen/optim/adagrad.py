"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients so far."""
from minigen import backend
from minigen.optim.optimizer import Optimizer, _check_hyper


class Adagrad(Optimizer):
    """PyTorch's Adagrad (Duchi et al., 2011). For each parameter p with gradient g, at step t:

        g   <- g + weight_decay * p
        lr_t = lr / (1 + (t - 1) lr_decay)
        S   <- S + g^2                                   all squared gradients so far
        p   <- p - lr_t g / (sqrt(S) + eps)

    Coordinates that saw large gradients take small steps from then on. S starts at
    `initial_accumulator_value`. State per parameter: step, sum (S).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, maximize=False):
        _check_hyper("learning rate", lr)
        _check_hyper("lr_decay", lr_decay)
        _check_hyper("weight_decay", weight_decay)
        _check_hyper("initial_accumulator_value", initial_accumulator_value)
        _check_hyper("eps", eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _update(self, p, grad, state, group):
        xp = backend.get_array_module(p.data)
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(p.data, group["initial_accumulator_value"])
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.data
        lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        S = state["sum"]
        S += g * g
        p.data = p.data - lr_t * (g / (xp.sqrt(S) + group["eps"]))
