"""Learning-rate schedules, used as in PyTorch:

    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for step in range(100):
        ...; opt.step()
        sched.step()              # after the optimizer step

Creating a scheduler sets the learning rate of step 0; each `step()` moves to the
next. Every schedule here is a closed formula of the step count t = `last_epoch`
and each group's initial learning rate (`base_lrs`), so `state_dict()` is just those
numbers and resuming is exact. (Unlike PyTorch's recursive forms, two schedulers on
one optimizer do not compose; write the product as one LambdaLR instead.)
"""
import bisect
import math


class LRScheduler:
    """Base class: subclasses define lr_at(base_lr, t)."""

    def __init__(self, optimizer, last_epoch=-1):
        from minigen.optim.optimizer import Optimizer
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} expects an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param group {i} has no 'initial_lr': resuming with last_epoch="
                                   f"{last_epoch} needs the optimizer state of the earlier run")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr, t):
        """The learning rate at step t for a group that started at base_lr."""
        raise TypeError(f"{type(self).__name__} must define lr_at(base_lr, t) or get_lr()")

    def get_lr(self):
        """The learning rates of the current step, one per param group."""
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    def _apply(self):
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = list(lrs)

    def step(self):
        """Advance one step (call it after optimizer.step()) and set the new rates."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self):
        """The learning rates set by the latest step, one per param group."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer and functions (ints, floats, lists)."""
        return {k: v for k, v in self.__dict__.items()
                if k != "optimizer" and not callable(v) and k != "lr_lambdas"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._apply()

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (t // step_size): divide by 1/gamma every step_size steps."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma ** (number of milestones <= t)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = sorted(int(m) for m in milestones), float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, t)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** t."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** t


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2.

    Falls from base_lr at t = 0 to eta_min at t = T_max (and, like PyTorch, rises
    again after T_max if you keep stepping).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = int(T_max), float(eta_min)
        if self.T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(t); one function, or one per param group.

    The functions are not part of state_dict(): re-create the scheduler with the same
    function before loading.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: {len(lr_lambda)} functions for {n} param groups")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * fn(self.last_epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class LinearLR(LRScheduler):
    """lr = base_lr * factor, factor going linearly from start_factor (t = 0) to
    end_factor (t >= total_iters), as PyTorch's LinearLR."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError("LinearLR: start_factor must be in (0, 1] and end_factor in [0, 1]")
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        progress = min(t, self.total_iters) / self.total_iters if self.total_iters > 0 else 1.0
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)


class LinearWarmup(LRScheduler):
    """Linear warm-up: lr = base_lr * min(1, (t + 1) / warmup_steps), then constant.

    The first step uses base_lr / warmup_steps (never 0, so no step is wasted) and
    step warmup_steps - 1 reaches base_lr. For warm-up followed by a decay use
    `LambdaLR(opt, warmup_cosine(warmup_steps, total_steps))`.
    """

    def __init__(self, optimizer, warmup_steps, last_epoch=-1):
        self.warmup_steps = int(warmup_steps)
        if self.warmup_steps < 1:
            raise ValueError(f"LinearWarmup: warmup_steps must be >= 1, got {warmup_steps}")
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * min(1.0, (t + 1) / self.warmup_steps)


def warmup_cosine(warmup_steps, total_steps, min_factor=0.0):
    """A factor function for LambdaLR: linear warm-up over `warmup_steps` (as
    LinearWarmup), then a cosine from 1 down to `min_factor` at `total_steps`
    (and min_factor after)."""
    warmup_steps, total_steps = int(warmup_steps), int(total_steps)
    if not 0 <= warmup_steps < total_steps:
        raise ValueError("warmup_cosine needs 0 <= warmup_steps < total_steps")

    def factor(t):
        if t < warmup_steps:
            return (t + 1) / warmup_steps
        progress = min(1.0, (t - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_factor + (1 - min_factor) * (1 + math.cos(math.pi * progress)) / 2

    return factor
