"""Adadelta: step sizes from running averages of squared gradients *and* squared steps."""
from minigen import backend
from minigen.optim.optimizer import Optimizer, _check_hyper


class Adadelta(Optimizer):
    """PyTorch's Adadelta (Zeiler, 2012). For each parameter p with gradient g:

        g  <- g + weight_decay * p
        s  <- rho s + (1 - rho) g^2                        running mean of g^2
        dx = sqrt(u + eps) / sqrt(s + eps) * g             the step, in p's own units
        u  <- rho u + (1 - rho) dx^2                       running mean of dx^2
        p  <- p - lr dx

    The ratio of the two root-mean-squares makes the step size adapt without a
    hand-tuned learning rate (PyTorch's default lr is 1.0). State per parameter: step,
    square_avg (s), acc_delta (u).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
        _check_hyper("learning rate", lr)
        _check_hyper("eps", eps)
        _check_hyper("weight_decay", weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"invalid rho: {rho} (expected [0, 1])")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        xp = backend.get_array_module(p.data)
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.data)
            state["acc_delta"] = xp.zeros_like(p.data)
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.data
        s, u = state["square_avg"], state["acc_delta"]
        s *= rho
        s += (1 - rho) * (g * g)
        delta = xp.sqrt(u + eps) / xp.sqrt(s + eps) * g
        u *= rho
        u += (1 - rho) * (delta * delta)
        p.data = p.data - lr * delta
