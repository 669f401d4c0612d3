"""Adam and AdamW: adaptive step sizes from running moments of the gradient."""
import math

from minigen import backend
from minigen.optim.optimizer import Optimizer, _check_hyper


class Adam(Optimizer):
    """PyTorch's Adam (Kingma & Ba). For each parameter p with gradient g, at step t:

        g <- g + weight_decay * p                  (Adam: L2 penalty added to the gradient)
        m <- beta1 m + (1 - beta1) g               first moment (mean of g)
        v <- beta2 v + (1 - beta2) g^2             second moment (mean of g^2)
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)     (bias corrections:
                                                    m and v start at 0)
        p <- p - lr m_hat / (sqrt(v_hat) + eps)

    amsgrad=True uses the running maximum of v instead of v. State per parameter:
    step (int), exp_avg (m), exp_avg_sq (v) and max_exp_avg_sq (amsgrad).
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False):
        _check_hyper("learning rate", lr)
        _check_hyper("eps", eps)
        _check_hyper("beta1", betas[0], 0.0, 1.0)
        _check_hyper("beta2", betas[1], 0.0, 1.0)
        _check_hyper("weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        xp = backend.get_array_module(p.data)
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.data)
            state["exp_avg_sq"] = xp.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        g = -grad if group["maximize"] else grad
        param = p.data
        if wd != 0:
            if self._decoupled:
                param = param * (1 - lr * wd)      # AdamW: shrink the weights directly
            else:
                g = g + wd * param                  # Adam: L2 penalty in the gradient
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        if group["amsgrad"]:
            if "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = xp.zeros_like(p.data)
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        step_size = lr / bias_correction1
        denom = xp.sqrt(v) / math.sqrt(bias_correction2) + eps
        p.data = param - step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter):

        p <- p (1 - lr weight_decay)      then the Adam step without any L2 term,

    so the decay is not rescaled by the adaptive denominators. Default weight_decay
    0.01, as PyTorch.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
