"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
from minigen import backend
from minigen.optim.optimizer import Optimizer, _check_hyper


class RMSprop(Optimizer):
    """PyTorch's RMSprop. For each parameter p with gradient g:

        g <- g + weight_decay * p
        s <- alpha s + (1 - alpha) g^2                  running mean of g^2
        centered:  a <- alpha a + (1 - alpha) g;  d = sqrt(s - a^2) + eps
                   (a running *variance* instead of the raw second moment)
        otherwise: d = sqrt(s) + eps
        momentum > 0:  b <- momentum b + g / d;  p <- p - lr b
        otherwise:     p <- p - lr g / d

    State per parameter: step, square_avg (s), momentum_buffer (b), grad_avg (a).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, maximize=False):
        _check_hyper("learning rate", lr)
        _check_hyper("eps", eps)
        _check_hyper("alpha", alpha)
        _check_hyper("momentum", momentum)
        _check_hyper("weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _update(self, p, grad, state, group):
        xp = backend.get_array_module(p.data)
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.data)
            if momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p.data)
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.data
        s = state["square_avg"]
        s *= alpha
        s += (1 - alpha) * (g * g)
        if group["centered"]:
            a = state.setdefault("grad_avg", xp.zeros_like(p.data))
            a *= alpha
            a += (1 - alpha) * g
            denom = xp.sqrt(s - a * a) + eps
        else:
            denom = xp.sqrt(s) + eps
        if momentum > 0:
            b = state.setdefault("momentum_buffer", xp.zeros_like(p.data))
            b *= momentum
            b += g / denom
            p.data = p.data - lr * b
        else:
            p.data = p.data - lr * (g / denom)
