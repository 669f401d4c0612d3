"""mg.save / mg.load: checkpoints as one .npz file, without pickle.

    mg.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
             "rng": mg.get_rng_state(), "step": step}, "ckpt.npz")
    ckpt = mg.load("ckpt.npz")
    model.load_state_dict(ckpt["model"])

What can be saved: nested dicts (keys: str, int, float, bool, None), lists and tuples of
numpy/cupy arrays, Tensors, numpy scalars, and Python ints, floats, bools, None and
strings. Nothing else (no functions or arbitrary objects), which is the point: loading
a file never runs code from it.

The file format is a plain NumPy .npz (a zip of .npy files):

    "__minigen__"   a 0-d unicode array holding JSON: {"format": "minigen", "version": 1,
                    "tree": ...}, the structure of the object, where each array is a
                    reference {"__array__": "a0", "device": "cpu", ...}
    "a0", "a1" ...  the arrays (always stored as NumPy; cupy arrays are copied to the host)

and it is read back with `np.load(..., allow_pickle=False)`, so `np.load` alone can
inspect it too.

Writing is atomic: the data goes to a temporary file in the same directory, which
is flushed and fsync'ed, then renamed over the target with os.replace. A crash in the
middle of saving leaves the old checkpoint intact; a process killed outright (kill -9)
leaves its temporary ``.NAME.PID.*.tmp`` behind, which the next save of NAME removes. Reading a missing, truncated,
corrupt or foreign file raises an error that names the path and the problem.
"""
import json
import math
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from minigen import backend
from minigen.tensor import Tensor

FORMAT_NAME = "minigen"
FORMAT_VERSION = 1
HEADER_KEY = "__minigen__"
#: deepest nesting of dicts / lists / tuples saved or loaded (real checkpoints use < 10)
MAX_DEPTH = 100


class CheckpointError(ValueError):
    """A file could not be read as a minigen checkpoint (truncated, corrupt, foreign)."""


# ------------------------------------------------------------------ encoding the tree
def _where(path):
    return "obj" + "".join(f"[{p!r}]" for p in path)


def _encode_key(key, path):
    if isinstance(key, np.integer):
        key = int(key)
    if isinstance(key, (str, bool, int, float)) or key is None:
        return _encode(key, [], path)
    raise TypeError(f"mg.save: dict key {key!r} at {_where(path)} is a {type(key).__name__}; "
                    "keys must be str, int, float, bool or None")


def _encode(obj, arrays, path):
    """The JSON-able description of `obj`; arrays are appended to `arrays`."""
    if len(path) > MAX_DEPTH:
        raise ValueError(f"mg.save: the object is nested more than {MAX_DEPTH} levels deep "
                         f"(at {_where(path[:4])}...); mg.load would refuse it")
    if isinstance(obj, np.generic):    # numpy scalars (np.float32(1.5), np.int64(3)) keep their type;
        ref = _encode_array(np.asarray(obj), arrays, path)   # checked first: np.float64 is a float
        ref["scalar"] = True
        return ref
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return {"__float__": repr(obj)}            # nan, inf, -inf (not valid JSON numbers)
    if isinstance(obj, Tensor):
        from minigen.nn.parameter import Parameter
        ref = _encode_array(obj.data, arrays, path)
        ref["tensor"] = "parameter" if isinstance(obj, Parameter) else "tensor"
        ref["requires_grad"] = bool(obj.requires_grad)
        return ref
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        return _encode_array(obj, arrays, path)
    if isinstance(obj, dict):
        return {"__dict__": [[_encode_key(k, path), _encode(v, arrays, path + [k])]
                             for k, v in obj.items()],
                "ordered": isinstance(obj, OrderedDict)}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays, path + [i]) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, arrays, path + [i]) for i, v in enumerate(obj)]
    raise TypeError(f"mg.save: cannot save {_where(path)} of type {type(obj).__name__}; "
                    "checkpoints hold only dicts, lists, tuples, arrays, Tensors, numbers, "
                    "strings, bools and None")


def _encode_array(a, arrays, path):
    device = backend.device_of(a)
    host = np.asarray(backend.to_device(a, "cpu"))
    if host.dtype.hasobject:
        raise TypeError(f"mg.save: {_where(path)} is an object array, which cannot be stored "
                        "without pickle")
    key = f"a{len(arrays)}"
    arrays.append((key, host))
    return {"__array__": key, "device": device}


# ------------------------------------------------------------------ decoding the tree
class _Decoder:
    """Rebuild the object from the header's tree, checking every entry on the way: a
    header that is cut short, holds the wrong types or nests absurdly deep raises
    CheckpointError naming the file, never a TypeError from deep inside."""

    def __init__(self, arrays, map_location, path):
        self.arrays, self.map_location, self.path = arrays, map_location, path

    def fail(self, problem):
        raise CheckpointError(f"{self.path}: {problem}")

    def decode(self, node, depth=0):
        if depth > MAX_DEPTH:
            self.fail(f"the structure is nested more than {MAX_DEPTH} levels deep")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v, depth + 1) for v in node]
        if not isinstance(node, dict):
            self.fail(f"malformed structure entry {_short(node)}")
        if "__array__" in node:
            return self.decode_array(node)
        if "__dict__" in node:
            return self.decode_dict(node, depth)
        if "__tuple__" in node:
            items = node["__tuple__"]
            if not isinstance(items, list):
                self.fail(f"malformed tuple entry {_short(node)}")
            return tuple(self.decode(v, depth + 1) for v in items)
        if "__float__" in node:
            text = node["__float__"]
            if text not in ("nan", "inf", "-inf"):
                self.fail(f"malformed float entry {_short(node)} (expected nan, inf or -inf)")
            return float(text)
        self.fail(f"malformed structure entry with keys {sorted(node)}")

    def decode_dict(self, node, depth):
        pairs, ordered = node["__dict__"], node.get("ordered", False)
        if not isinstance(pairs, list) or not isinstance(ordered, bool):
            self.fail(f"malformed dict entry {_short(node)}")
        out = OrderedDict() if ordered else {}
        for pair in pairs:
            if not isinstance(pair, list) or len(pair) != 2:
                self.fail(f"malformed dict entry {_short(pair)}")
            key = self.decode(pair[0], depth + 1)
            if not (key is None or isinstance(key, (bool, int, float, str))):
                self.fail(f"malformed dict key {_short(pair[0])}")
            out[key] = self.decode(pair[1], depth + 1)
        return out

    def decode_array(self, node):
        key = node["__array__"]
        if not isinstance(key, str):
            self.fail(f"malformed array reference {_short(node)}")
        if key not in self.arrays:
            self.fail(f"the structure refers to array {key!r}, which the file does not hold "
                      "(the file is incomplete)")
        array = self.arrays[key]
        kind = node.get("tensor")
        requires_grad = node.get("requires_grad", kind == "parameter")
        saved_device = node.get("device", "cpu")
        if (saved_device not in ("cpu", "cuda") or kind not in (None, "tensor", "parameter")
                or not isinstance(requires_grad, bool) or not isinstance(node.get("scalar", False), bool)):
            self.fail(f"malformed array reference {_short(node)}")
        if node.get("scalar"):
            if array.ndim != 0:
                self.fail(f"array {key!r} is marked as a scalar but has shape {array.shape}")
            return array[()]
        device = self.map_location or saved_device
        if device != "cpu":
            try:
                array = backend.to_device(array, device)
            except RuntimeError as exc:
                raise RuntimeError(f"{self.path}: an array was saved from device {device!r}, "
                                   f"which is not available here ({exc}); pass "
                                   "map_location='cpu' to mg.load") from exc
        if kind is None:
            return array
        try:
            if kind == "parameter":
                from minigen.nn.parameter import Parameter
                return Parameter(array, requires_grad=requires_grad)
            return Tensor(array, requires_grad=requires_grad)
        except (TypeError, ValueError) as exc:
            self.fail(f"array {key!r} cannot be a {kind}: {exc}")


def _short(node, limit=80):
    text = repr(node)
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------ public functions
def save(obj, path, compress=False):
    """Write `obj` (a state dict or a checkpoint dict) to `path` as .npz, atomically.

    compress=True uses zip deflate (smaller, slower). The path is used exactly as
    given (no '.npz' is appended). Raises TypeError naming any entry that cannot be
    saved, before anything is written; ValueError for an empty path or an object nested
    more than MAX_DEPTH levels; IsADirectoryError, NotADirectoryError (a parent is a
    file) or FileNotFoundError (no such folder) for a path that cannot become a file.
    Temporaries left by an earlier save of the same file that was killed are removed.
    """
    path = os.fspath(path)
    arrays = []
    tree = _encode(obj, arrays, [])
    header = json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION, "tree": tree},
                        allow_nan=False)
    entries = {HEADER_KEY: np.array(header)}
    entries.update(arrays)

    directory = _checked_target(path)
    _remove_stale_temporaries(directory, os.path.basename(path))
    # the writer's pid in the name tells a later save whether this file is still being written
    fd, tmp_path = tempfile.mkstemp(dir=directory, suffix=".tmp",
                                    prefix=f".{os.path.basename(path)}.{os.getpid()}.")
    try:
        with os.fdopen(fd, "wb") as f:
            (np.savez_compressed if compress else np.savez)(f, **entries)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())       # mkstemp made it private (0600)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise
    _fsync_directory(directory)


def load(path, map_location=None):
    """Read an object written by `save`.

    Arrays come back as numpy arrays on the CPU, or on the device they were saved
    from (cupy for 'cuda'); map_location='cpu' or 'cuda' puts all of them there.
    Tensors and Parameters come back as Tensors and Parameters, tuples as tuples,
    OrderedDicts as OrderedDicts.

    Raises FileNotFoundError for a missing file and CheckpointError (a ValueError)
    for a file that is truncated, corrupt, or not written by `save`, naming the path.
    """
    path = os.fspath(path)
    if map_location is not None:
        map_location = backend.check_device_name(map_location)
        if map_location == "cuda" and not backend.cupy_available():
            try:
                backend.to_device(np.zeros(1), "cuda")   # the reason CUDA is missing
            except RuntimeError as exc:
                raise RuntimeError(f"mg.load({path!r}, map_location='cuda'): the device 'cuda' "
                                   f"asked for by map_location is not available here ({exc}); "
                                   "use map_location='cpu'") from exc
    if not os.path.exists(path):
        raise FileNotFoundError(f"mg.load: no such file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"mg.load: {path!r} is a directory, not a checkpoint file")
    with open(path, "rb") as f:
        magic = f.read(4)
    if not magic:
        raise CheckpointError(f"{path}: not a minigen checkpoint: the file is empty")
    if magic != b"PK\x03\x04":
        kind = "a single .npy array" if magic == b"\x93NUM" else f"it starts with bytes {magic!r}"
        raise CheckpointError(f"{path}: not a minigen checkpoint: not an .npz (zip) archive ({kind})")
    try:
        with np.load(path, allow_pickle=False) as npz:
            names = list(npz.files)
            if HEADER_KEY not in names:
                shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
                raise CheckpointError(
                    f"{path}: not a minigen checkpoint: the .npz has no {HEADER_KEY!r} entry "
                    f"(it holds: {shown or 'nothing'}); it was not written by mg.save "
                    "(read plain .npz files with numpy.load)")
            header_text = str(npz[HEADER_KEY])
            arrays = {name: npz[name] for name in names if name != HEADER_KEY}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError, UnicodeDecodeError) as exc:
        raise CheckpointError(
            f"{path}: cannot read it as a minigen checkpoint (truncated, corrupt, or not an .npz "
            f"file): {type(exc).__name__}: {exc}") from exc
    try:
        header = json.loads(header_text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: the {HEADER_KEY!r} entry is not valid JSON ({exc})") from exc
    except RecursionError:
        raise CheckpointError(f"{path}: the {HEADER_KEY!r} entry is nested too deeply to be "
                              "a checkpoint's structure") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME or "tree" not in header:
        raise CheckpointError(f"{path}: the {HEADER_KEY!r} entry does not describe a minigen checkpoint")
    if header.get("version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {header.get('version')!r}; this "
                              f"minigen reads version {FORMAT_VERSION}")
    try:
        return _Decoder(arrays, map_location, path).decode(header["tree"])
    except RecursionError:
        raise CheckpointError(f"{path}: the structure is nested too deeply") from None


def _checked_target(path):
    """The folder `path` will be written into, after checking the path can be a file."""
    if not path:
        raise ValueError("mg.save: the path is empty; give a file name such as 'checkpoint.npz'")
    if os.path.isdir(path):
        raise IsADirectoryError(f"mg.save: {path!r} is a directory; give a file name inside it "
                                f"(e.g. {os.path.join(path, 'checkpoint.npz')!r})")
    directory = os.path.dirname(os.path.abspath(path))
    ancestor = directory                        # the nearest existing folder above the file
    while not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        raise NotADirectoryError(f"mg.save: cannot write {path!r}: {ancestor!r} is a file, "
                                 "not a directory")
    if ancestor != directory:
        raise FileNotFoundError(f"mg.save: directory {directory!r} does not exist (saving {path!r})")
    return directory


def _remove_stale_temporaries(directory, name):
    """Delete temporaries of `name` left by a save that was killed (kill -9, power loss).

    A save writes ``.NAME.PID.XXXXXXXX.tmp`` and renames it; one whose process PID no
    longer runs will never be renamed, and can be as large as the checkpoint.  Those of
    a running process (another save of the same file, right now) are left alone, and so
    are other checkpoints' temporaries.  POSIX only: elsewhere nothing is removed.
    """
    if os.name != "posix":
        return
    prefix = f".{name}."
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(".tmp")):
            continue
        pid = entry[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_runs(int(pid)):
            try:
                os.unlink(os.path.join(directory, entry))
            except OSError:
                pass                                 # gone already, or not ours to remove


def _process_runs(pid):
    try:
        os.kill(pid, 0)                              # signal 0: only asks whether it exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                                  # exists, owned by someone else
    except OverflowError:
        return False
    return True


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); silently skipped where unsupported."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
