"""EMA: an exponential moving average of a model's parameters.

Generative models (diffusion, GANs) are usually evaluated with averaged weights,
which are smoother than the last iterate:

    ema = optim.EMA(model, decay=0.999)
    for batch in data:
        ...; opt.step()
        ema.update()                        # shadow <- decay shadow + (1 - decay) p
    with ema.average_parameters():          # evaluate with the averages ...
        samples = sample(model)
                                            # ... and the training weights are back

The averages ("shadow" arrays) are kept outside the model. Only parameters are
averaged; buffers (BatchNorm's running statistics) stay those of the live model.
"""
import contextlib

from minigen import backend
from minigen.autograd import no_grad
from minigen.tensor import Tensor


def _copy_like(array, like):
    """A copy of `array` on the device and with the dtype of `like`."""
    if backend.device_of(array) != backend.device_of(like):
        array = backend.to_device(array, backend.device_of(like))
    return backend.get_array_module(like).array(array, dtype=like.dtype, copy=True)


class EMA:
    """Exponential moving average of parameters.

    source: a Module (its parameters()) or an iterable of Parameters.
    decay: weight of the old average at each update (0.999 ~ the last 1000 steps).
    warmup: if True, use min(decay, (1 + n) / (10 + n)) at update n, so that the
        average is not dominated by the random initial weights early in training.
    """

    def __init__(self, source, decay=0.999, warmup=False):
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"EMA: decay must be in [0, 1], got {decay}")
        params = source.parameters() if hasattr(source, "parameters") else source
        self.params = list(params)
        if not all(isinstance(p, Tensor) for p in self.params):
            raise TypeError("EMA expects a Module or an iterable of Parameters")
        self.decay, self.warmup = float(decay), bool(warmup)
        self.num_updates = 0
        self.shadow = [_copy_like(p.data, p.data) for p in self.params]
        self._backup = None

    def current_decay(self):
        """The decay the next update will use."""
        if self.warmup:
            n = self.num_updates + 1
            return min(self.decay, (1 + n) / (10 + n))
        return self.decay

    def update(self):
        """shadow <- d shadow + (1 - d) p for every parameter (call after optimizer.step())."""
        d = self.current_decay()
        with no_grad():
            for i, (s, p) in enumerate(zip(self.shadow, self.params)):
                if backend.device_of(s) != p.device or s.dtype != p.dtype:
                    s = self.shadow[i] = _copy_like(s, p.data)
                s *= d
                s += (1 - d) * p.data
        self.num_updates += 1

    def copy_to(self, parameters=None):
        """Write the averages into the parameters (the tracked ones by default)."""
        params = self.params if parameters is None else list(parameters)
        if len(params) != len(self.shadow):
            raise ValueError(f"EMA.copy_to: {len(params)} parameters for {len(self.shadow)} averages")
        with no_grad():
            for s, p in zip(self.shadow, params):
                p.data = _copy_like(s, p.data)

    def store(self):
        """Remember the current parameter values (restore() puts them back)."""
        self._backup = [p.data for p in self.params]   # optimizers assign new arrays, never mutate

    def restore(self):
        """Put back the values remembered by store()."""
        if self._backup is None:
            raise RuntimeError("EMA.restore() without a store() before it")
        for b, p in zip(self._backup, self.params):
            p.data = b
        self._backup = None

    @contextlib.contextmanager
    def average_parameters(self):
        """`with ema.average_parameters():` the model holds the averages inside the block."""
        self.store()
        self.copy_to()
        try:
            yield self
        finally:
            self.restore()

    def state_dict(self):
        return {"decay": self.decay, "warmup": self.warmup, "num_updates": self.num_updates,
                "shadow": [backend.get_array_module(s).array(s, copy=True) for s in self.shadow]}

    def load_state_dict(self, state_dict):
        shadow = list(state_dict["shadow"])
        if len(shadow) != len(self.params):
            raise ValueError(f"EMA state has {len(shadow)} averages, this EMA tracks "
                             f"{len(self.params)} parameters")
        for i, (s, p) in enumerate(zip(shadow, self.params)):
            s = s.data if isinstance(s, Tensor) else s
            if tuple(s.shape) != p.shape:
                raise ValueError(f"EMA average {i} has shape {tuple(s.shape)}, parameter {p.shape}")
        self.shadow = [_copy_like(s.data if isinstance(s, Tensor) else s, p.data)
                       for s, p in zip(shadow, self.params)]
        self.decay = float(state_dict["decay"])
        self.warmup = bool(state_dict.get("warmup", False))
        self.num_updates = int(state_dict["num_updates"])
