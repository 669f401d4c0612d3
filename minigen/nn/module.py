"""Module: the base class of every layer and model.

A Module is a Python object that owns three kinds of things, each kept in an
ordered dict so that names and order are stable:

    _parameters  name -> Parameter   learned by the optimizer (weights, biases)
    _buffers     name -> array       state that is saved but not learned
                                     (BatchNorm's running mean and variance)
    _modules     name -> Module      sub-layers, which own their own things

You never fill these dicts by hand: `__setattr__` does it. Writing

    self.fc = Linear(2, 3)                  # registers a sub-module "fc"
    self.scale = Parameter(mg.ones(3))      # registers a parameter "scale"
    self.register_buffer("count", np.zeros(()))

is all it takes; `parameters()`, `state_dict()`, `to(device)`, `train()`/`eval()` and
`repr(model)` then walk the tree. Names of nested things are dotted paths:
"fc.weight", "encoder.0.bias".

`model(x)` calls `model.forward(x)` (and any forward hooks); subclasses define
`forward`.

Buffers are raw arrays (numpy on the CPU, cupy on the GPU), which is what the
functional ops that update them in place (`F.batch_norm`) expect. A Tensor may be
registered as a buffer too; `state_dict()` stores its array.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from minigen import backend
from minigen.autograd import no_grad
from minigen.tensor import Tensor
from minigen.nn.parameter import Parameter


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict(..., strict=False)` could not match (empty lists when all fit)."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class StateDictError(RuntimeError):
    """A state dict does not fit the module (missing, unexpected or mis-shaped keys)."""


def _is_array(value):
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, Tensor)


def _array_of(value):
    """The raw array of a Parameter / Tensor / array (None stays None)."""
    return value.data if isinstance(value, Tensor) else value


def _copy_array(a):
    return backend.get_array_module(a).array(a, copy=True)


def _parse_to_args(args, kwargs):
    """Module.to accepts to(device), to(dtype), to(device, dtype), to(device=.., dtype=..)."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, str):
            device = arg
        else:
            dtype = arg
    if device is not None:
        device = backend.check_device_name(device)
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, got {dtype}")
    return device, dtype


def _convert(array, device, dtype):
    """Move one array to `device` and, if it is a float array, cast it to `dtype`."""
    if dtype is not None and array.dtype.kind == "f" and array.dtype != dtype:
        array = array.astype(dtype)
    if device is not None and backend.device_of(array) != device:
        array = backend.to_device(array, device)
    return array


def _addindent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class _HookHandle:
    def __init__(self, hooks, key):
        self._hooks, self._key = hooks, key

    def remove(self):
        self._hooks.pop(self._key, None)


class Module:
    """Base class of layers and models (see the module docstring).

    Subclasses call `super().__init__()` first, then assign Parameters and Modules
    as attributes, and define `forward`.
    """

    training: bool

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_next_hook_id", 0)

    # ------------------------------------------------------------ registration
    def _check_initialised(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() was called: write "
                f"super().__init__() at the start of {type(self).__name__}.__init__")

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._check_initialised("parameters")
            self._remove_everywhere(name)
            self._parameters[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to parameter '{name}' of "
                    f"{type(self).__name__}: expected nn.Parameter or None (wrap it: "
                    f"Parameter(tensor))")
            params[name] = None
        elif isinstance(value, Module):
            self._check_initialised("sub-modules")
            self._remove_everywhere(name)
            self._modules[name] = value
        elif name in self.__dict__.get("_modules", {}):
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to sub-module '{name}' "
                                f"of {type(self).__name__}: expected a Module or None")
            self._modules[name] = None
        elif name in self.__dict__.get("_buffers", {}):
            if value is not None and not (_is_array(value) or isinstance(value, Tensor)):
                raise TypeError(f"cannot assign a {type(value).__name__} to buffer '{name}' of "
                                f"{type(self).__name__}: expected an array, a Tensor or None")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _remove_everywhere(self, name):
        self.__dict__.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            self.__dict__[key].pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name):
        # Called only when normal lookup fails: look in the three registries.
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if key in d and name in d[key]:
                return d[key][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(key, {}):
                del self.__dict__[key][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f"{kind} name {name!r} must be non-empty and contain no '.'")
        if hasattr(self, name) and name not in self._parameters and name not in self._buffers \
                and name not in self._modules:
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")

    def register_parameter(self, name, param):
        """Register `param` (a Parameter or None) under `name`."""
        self._check_initialised("parameters")
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter('{name}'): expected a Parameter or None, "
                            f"got {type(param).__name__}")
        self._remove_everywhere(name)
        self._parameters[name] = param

    def register_buffer(self, name, value, persistent=True):
        """Register an array (or Tensor, or None) that is state but not learned.

        Buffers move with `to(device)` and appear in `state_dict()` unless
        `persistent=False`.
        """
        self._check_initialised("buffers")
        self._check_name(name, "buffer")
        if value is not None and not (_is_array(value) or isinstance(value, Tensor)):
            raise TypeError(f"register_buffer('{name}'): expected an array, a Tensor or None, "
                            f"got {type(value).__name__}")
        if isinstance(value, Parameter):
            raise TypeError(f"register_buffer('{name}'): a Parameter is learned; "
                            "assign it as an attribute instead")
        self._remove_everywhere(name)
        self._buffers[name] = value
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Register `module` (a Module or None) under `name`."""
        self._check_initialised("sub-modules")
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module('{name}'): expected a Module, got {type(module).__name__}")
        self._remove_everywhere(name)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} has no forward(): define forward(self, ...) "
                        "in your Module subclass")

    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def _add_hook(self, hooks, hook):
        key = self._next_hook_id
        object.__setattr__(self, "_next_hook_id", key + 1)
        hooks[key] = hook
        return _HookHandle(hooks, key)

    def register_forward_hook(self, hook):
        """Call hook(module, inputs, output) after each forward; a returned value replaces
        the output. Returns a handle with `remove()` (used by inspection tools)."""
        return self._add_hook(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook):
        """Call hook(module, inputs) before each forward; a returned value replaces the inputs."""
        return self._add_hook(self._forward_pre_hooks, hook)

    # ------------------------------------------------------------ walking the tree
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every module below it, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """(name, module) of the direct sub-modules."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse):
        seen = set()   # a shared parameter (weight tying) is listed once
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) for every parameter, each shared one listed once."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call fn(module) on every sub-module (children first) and on self; returns self.

        The usual way to apply a custom initialisation:  model.apply(init_weights)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        """Training mode (Dropout drops, BatchNorm uses batch statistics); returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) expects a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Evaluation mode, the same as train(False); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradients of all parameters on or off (freezing a network); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of all parameters (None by default, or zero arrays)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor(backend.get_array_module(p.data).zeros_like(p.data))

    # ------------------------------------------------------------ devices and dtypes
    def to(self, *args, **kwargs):
        """Move parameters and buffers to a device and/or cast floats to a dtype, in place.

            model.to("cuda");  model.to(np.float64);  model.to("cpu", np.float32)

        Parameters keep their identity (only their `.data` and `.grad` change), so an
        optimizer created before the move still holds the right objects, as in
        PyTorch. (Its state arrays, e.g. Adam's moments, are moved lazily on the next
        step.) Integer buffers such as `num_batches_tracked` keep their dtype. Returns self.
        """
        device, dtype = _parse_to_args(args, kwargs)
        with no_grad():
            for module in self.modules():
                for p in module._parameters.values():
                    if p is None:
                        continue
                    p.data = _convert(p.data, device, dtype)
                    if p.grad is not None:
                        p.grad = Tensor(_convert(p.grad.data, device, dtype))
                for name, b in module._buffers.items():
                    if b is None:
                        continue
                    if isinstance(b, Tensor):
                        b.data = _convert(b.data, device, dtype)
                    else:
                        module._buffers[name] = _convert(b, device, dtype)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    # ------------------------------------------------------------ state dicts
    def _state_items(self, prefix=""):
        """(dotted name, Parameter / Tensor / array) for every saved entry, in order:
        a module's own parameters, then its persistent buffers, then its children."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                yield prefix + name, b
        for name, module in self._modules.items():
            if module is not None:
                yield from module._state_items(prefix + name + ".")

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict: dotted name -> copy of the array (numpy or cupy).

        Holds every parameter and persistent buffer. The arrays are copies, so later
        training does not change a saved state dict. keep_vars=True returns the
        Parameters / buffers themselves instead of copies.
        """
        destination = OrderedDict() if destination is None else destination
        for name, value in self._state_items(prefix):
            destination[name] = value if keep_vars else _copy_array(_array_of(value))
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from `state_dict` into this module's parameters and buffers.

        Values may be numpy or cupy arrays, Tensors or numbers; each is copied to the
        device and dtype of the entry it replaces (parameters keep their identity).
        Nothing is changed unless everything fits: keys with the wrong shape are
        always an error; missing keys (in the module, not in the dict) and
        unexpected keys (in the dict, not in the module) are errors when `strict`
        (the default). One StateDictError lists all the problems. Returns
        IncompatibleKeys(missing_keys, unexpected_keys).
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict expects a dict, got {type(state_dict).__name__}")
        targets = OrderedDict(self._state_items())
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        mismatched, converted = [], {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = _array_of(value)
            if not _is_array(array):
                array = np.asarray(array)
            if tuple(array.shape) != tuple(_array_of(target).shape):
                mismatched.append(f"{key}: checkpoint {tuple(array.shape)}, "
                                  f"model {tuple(_array_of(target).shape)}")
            converted[key] = array
        problems = []
        if strict and missing:
            problems.append("missing keys (in the model, not in the state dict): "
                            + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys (in the state dict, not in the model): "
                            + ", ".join(map(str, unexpected)))
        if mismatched:
            problems.append("keys with the wrong shape: " + "; ".join(mismatched))
        if problems:
            raise StateDictError(f"error loading state dict into {type(self).__name__}:\n  "
                                 + "\n  ".join(problems))
        with no_grad():
            for module_prefix, module in self.named_modules():
                base = module_prefix + ("." if module_prefix else "")
                for name, p in module._parameters.items():
                    if p is not None and base + name in converted:
                        p.data = _fitted_copy(converted[base + name], p.data)
                for name, b in module._buffers.items():
                    if b is None or base + name not in converted \
                            or name in module._non_persistent_buffers:
                        continue
                    if isinstance(b, Tensor):
                        b.data = _fitted_copy(converted[base + name], b.data)
                    else:
                        module._buffers[name] = _fitted_copy(converted[base + name], b)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ printing
    def extra_repr(self):
        """The text inside the parentheses of this module's line in repr (override me)."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(module), 2))
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _fitted_copy(array, like):
    """A fresh copy of `array` with the dtype and on the device of `like`."""
    xp = backend.get_array_module(like)
    if backend.device_of(array) != backend.device_of(like):
        array = backend.to_device(array, backend.device_of(like))
    return xp.array(array, dtype=like.dtype, copy=True)
