"""Optimizer: the base class of SGD, Adam, AdamW and RMSprop.

An optimizer holds *parameter groups*: lists of parameters that share
hyperparameters (one group unless you pass several):

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt = optim.Adam([{"params": enc.parameters()},
                      {"params": dec.parameters(), "lr": 1e-4}], lr=1e-3)
    opt.param_groups[0]["lr"] = 0.01          # what a scheduler changes

`step()` updates every parameter that has a `.grad`, one parameter at a time, in
`_update(p, grad, state, group)`, which each optimizer writes as a few lines of
NumPy/CuPy on raw arrays (no graph is recorded). The new values are *assigned* to
`p.data` (the Parameter object is kept), never written into the old array; that
bumps the parameter's version, so backward through a graph built before the step
raises StaleTensorError instead of differentiating with the stepped weights. Per-parameter
state (momentum buffers, Adam's moments) lives in `self.state[p]`, a dict; those
private arrays are updated in place.

`state_dict()` has PyTorch's layout:

    {"state": {0: {"step": 3, "exp_avg": array, ...}, 1: {...}},
     "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1]}]}

where parameters are numbered in the order of the groups; `load_state_dict` maps
the numbers back onto this optimizer's parameters (which must have the same
shapes, in the same order).
"""
import abc
import copy

from minigen import backend
from minigen.autograd import changes_described, enable_grad, no_grad
from minigen.tensor import Tensor


def _is_array(value):
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, Tensor)


class Optimizer(abc.ABC):
    """Base class: parameter groups, zero_grad, step, state_dict / load_state_dict."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}            # Parameter -> dict of its state (keyed by identity)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("optimizer params must be an iterable of Tensors or of dicts "
                            "(e.g. model.parameters()), got a single Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a dict {"params": [...], hyperparameter: value, ...}; missing
        hyperparameters take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer params must be an ordered sequence (a set's order "
                            "changes between runs); use a list")
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but entry {i} of a group "
                                f"is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"optimizer can't optimize a non-leaf Tensor (entry {i}, shape "
                                 f"{p.shape}): it is the result of an op; optimize its leaves")
            if p.dtype.kind != "f":
                raise TypeError(f"optimizer can only optimize float Tensors, entry {i} is {p.dtype}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError("some parameters appear more than once (in one group or in several)")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self.param_groups.append(group)

    # ---------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none=True):
        """Forget all gradients (None by default; zero arrays with set_to_none=False)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor(backend.get_array_module(p.data).zeros_like(p.data))

    def step(self, closure=None):
        """Update every parameter that has a gradient.

        closure: optional function that re-evaluates the model and returns the loss
        (it is called with gradients enabled, before the update); its loss is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # every parameter is rebound (p.data = ...): its version goes up, and a graph
        # built before this step refuses to backward through the old values
        with no_grad(), changes_described(f"{type(self).__name__}.step()"):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state.setdefault(p, {})
                    self._follow_parameter(p, state)
                    grad = p.grad.data
                    if grad.shape != p.shape:
                        raise RuntimeError(f"{type(self).__name__}: gradient of shape {grad.shape} "
                                           f"for a parameter of shape {p.shape}")
                    self._update(p, grad, state, group)
        return loss

    @abc.abstractmethod
    def _update(self, p, grad, state, group):
        """Update one parameter (assign p.data); subclasses write the rule here."""

    @staticmethod
    def _follow_parameter(p, state):
        """Move state arrays to the parameter's device and float dtype (after model.to())."""
        device = p.device
        for key, value in state.items():
            if _is_array(value):
                if backend.device_of(value) != device:
                    value = backend.to_device(value, device)
                if value.dtype.kind == "f" and value.dtype != p.dtype:
                    value = value.astype(p.dtype)
                state[key] = value

    # ---------------------------------------------------------------- state dicts
    def _index_of_params(self):
        index, order = {}, []
        for group in self.param_groups:
            for p in group["params"]:
                index[id(p)] = len(order)
                order.append(p)
        return index, order

    def state_dict(self):
        """{"state": {param index: {name: array copy or number}}, "param_groups": [...]}."""
        index, _ = self._index_of_params()
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        k: (backend.get_array_module(v).array(v, copy=True) if _is_array(v)
                            else copy.deepcopy(v))
                        for k, v in self.state[p].items()}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by `state_dict()` (arrays are copied to
        each parameter's device and dtype). The optimizer must have been built over
        parameters of the same shapes, in the same groups and order."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("optimizer state dict must be a dict with exactly the keys "
                             "'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, this "
                             f"optimizer has {len(self.param_groups)}")
        mapping = {}
        for g, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"parameter group {g}: loaded state dict has "
                                 f"{len(saved['params'])} parameters, this optimizer "
                                 f"{len(group['params'])}")
            for saved_index, p in zip(saved["params"], group["params"]):
                mapping[int(saved_index)] = p
        new_state = {}
        for key, saved_state in state_dict["state"].items():
            key = int(key)
            if key not in mapping:
                raise ValueError(f"loaded optimizer state refers to parameter {key}, which no "
                                 "parameter group lists")
            p = mapping[key]
            entry = {}
            for name, value in saved_state.items():
                if isinstance(value, Tensor):
                    value = value.data
                if _is_array(value):
                    if value.ndim > 0 and tuple(value.shape) != p.shape:
                        raise ValueError(f"optimizer state '{name}' of parameter {key} has shape "
                                         f"{tuple(value.shape)}, the parameter {p.shape}")
                    value = backend.to_device(value, p.device)
                    xp = backend.get_array_module(value)
                    dtype = p.dtype if value.dtype.kind == "f" else value.dtype
                    value = xp.array(value, dtype=dtype, copy=True)
                else:
                    value = copy.deepcopy(value)
                entry[name] = value
            new_state[p] = entry
        for saved, group in zip(saved_groups, self.param_groups):
            for name, value in saved.items():
                if name != "params":
                    group[name] = tuple(value) if isinstance(group.get(name), tuple) else copy.deepcopy(value)
        self.state = new_state

    # ---------------------------------------------------------------- printing
    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for name in sorted(group):
                if name != "params":
                    lines.append(f"    {name}: {group[name]}")
        lines.append(")")
        return "\n".join(lines)


def _check_hyper(name, value, low=0.0, high=None, low_open=False):
    """ValueError unless low <= value (< high): named, like PyTorch's checks."""
    bad = value < low or (low_open and value == low) or (high is not None and value >= high)
    if bad:
        bound = f"[{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"invalid {name}: {value} (expected {bound})")
