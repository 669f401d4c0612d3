"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""
from minigen.optim.optimizer import Optimizer, _check_hyper


class SGD(Optimizer):
    """PyTorch's SGD. For each parameter p with gradient g:

        g <- g + weight_decay * p                      (L2 penalty)
        b <- g                              at the first step
        b <- momentum * b + (1 - dampening) * g         afterwards
        g <- g + momentum * b   (nesterov)   or   g <- b   (classic momentum)
        p <- p - lr * g

    With momentum=0 this is plain gradient descent. maximize=True ascends.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False):
        _check_hyper("learning rate", lr)
        _check_hyper("momentum", momentum)
        _check_hyper("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        lr, momentum = group["lr"], group["momentum"]
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.data
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = g.copy()
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            state["momentum_buffer"] = buf
            g = g + momentum * buf if group["nesterov"] else buf
        p.data = p.data - lr * g
