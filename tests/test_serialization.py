"""mg.save / mg.load: round trips, atomic writes, clear errors, and exact resume in a new process."""
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
import minigen.optim as optim
from minigen.serialization import CheckpointError, load, save

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_round_trip_of_a_nested_checkpoint(tmp_path):
    obj = {
        "arrays": [np.arange(6, dtype=np.int64).reshape(2, 3), np.float32(2.5) * np.ones((2, 2), np.float32),
                   np.array(3.0), np.zeros((0, 4), np.float64), np.array([True, False]),
                   np.arange(4, dtype=np.uint8)],
        "tensor": mg.tensor([1.0, 2.0], requires_grad=True),
        "param": nn.Parameter(mg.ones(2)),
        "scalars": (1, -2.5, True, None, "naïve ✓", float("inf"), float("nan"), np.int64(7), np.float32(0.5),
                    np.float64(0.25), np.bool_(True)),
        "ordered": OrderedDict([("b", 1), ("a", 2)]),
        7: "int key", 2.5: "float key", np.int64(8): "numpy int key",
        "empty": {}, "nested": {"deeper": [[], {"x": [np.ones(1)]}]},
        "big": 2 ** 80,
    }
    path = tmp_path / "ckpt.npz"
    save(obj, path)
    back = load(str(path))
    assert list(back) == list(obj)
    for a, b in zip(obj["arrays"], back["arrays"]):
        assert type(b) is np.ndarray and b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)
    assert isinstance(back["tensor"], mg.Tensor) and back["tensor"].requires_grad
    assert np.array_equal(back["tensor"].data, [1.0, 2.0]) and back["tensor"].dtype == np.float32
    assert isinstance(back["param"], nn.Parameter)
    s = back["scalars"]
    assert isinstance(s, tuple) and s[:5] == (1, -2.5, True, None, "naïve ✓")
    assert s[5] == float("inf") and np.isnan(s[6])
    assert type(s[7]) is np.int64 and s[7] == 7 and type(s[8]) is np.float32
    assert type(s[9]) is np.float64 and s[9] == 0.25 and type(s[10]) is np.bool_
    assert type(back["ordered"]) is OrderedDict and list(back["ordered"]) == ["b", "a"]
    assert back[7] == "int key" and back[2.5] == "float key" and back["empty"] == {}
    assert back[8] == "numpy int key"
    assert np.array_equal(back["nested"]["deeper"][1]["x"][0], np.ones(1))
    assert back["big"] == 2 ** 80


def test_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    path = tmp_path / "m.npz"
    old_umask = os.umask(0o022)
    try:
        save({"w": np.ones(3)}, path)
    finally:
        os.umask(old_umask)
    assert os.stat(path).st_mode & 0o777 == 0o644     # not the temporary file's private 0600
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(str(npz["__minigen__"]))
        assert header["format"] == "minigen" and header["version"] == 1
        assert np.array_equal(npz["a0"], np.ones(3))


def test_model_and_optimizer_state_dicts_round_trip(tmp_path):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    opt = optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.9))
    model(mg.randn(5, 3)).sum().backward()
    opt.step()
    save({"model": model.state_dict(), "opt": opt.state_dict(), "rng": mg.get_rng_state()},
         tmp_path / "c.npz")
    back = load(tmp_path / "c.npz", map_location="cpu")
    assert type(back["model"]) is OrderedDict and list(back["model"]) == list(model.state_dict())
    mg.manual_seed(1)
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    other.load_state_dict(back["model"])
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert np.array_equal(a, b) and a.dtype == b.dtype
    opt2 = optim.Adam(other.parameters())
    opt2.load_state_dict(back["opt"])
    assert opt2.param_groups[0]["betas"] == (0.5, 0.9) and opt2.state[other[0].weight]["step"] == 1
    mg.set_rng_state(back["rng"])


def test_unsavable_objects_are_named_and_nothing_is_written(tmp_path):
    path = tmp_path / "bad.npz"
    with pytest.raises(TypeError, match=r"obj\['model'\]\['fn'\].*function"):
        save({"model": {"fn": lambda: 0}}, path)
    with pytest.raises(TypeError, match="object array"):
        save({"x": np.array([1, "a", None], dtype=object)}, path)
    with pytest.raises(TypeError, match="keys must be"):
        save({(1, 2): 3}, path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_a_crash_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"step": 1, "w": np.ones(3)}, path)

    def crash(file, **entries):
        file.write(b"PK\x03\x04 half a zip file")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save({"step": 2, "w": np.zeros(3)}, path)
    monkeypatch.undo()
    assert load(path)["step"] == 1
    assert os.listdir(tmp_path) == ["ckpt.npz"]          # the temporary file was removed

    def fail_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(OSError, match="disk full"):
        save({"step": 3}, path)
    monkeypatch.undo()
    assert load(path)["step"] == 1 and os.listdir(tmp_path) == ["ckpt.npz"]


def test_overwriting_replaces_the_file(tmp_path):
    path = tmp_path / "c.npz"
    save({"step": 1}, path)
    save({"step": 2}, str(path))
    assert load(path) == {"step": 2}
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save({}, tmp_path / "no" / "such" / "dir.npz")


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.npz"
    save({"w": np.arange(1000, dtype=np.float32), "step": 5}, path)
    return path


def test_truncated_file_is_a_clear_error(good_file, tmp_path):
    data = good_file.read_bytes()
    for n in (len(data) // 2, len(data) - 10, 10):
        bad = tmp_path / f"trunc{n}.npz"
        bad.write_bytes(data[:n])
        with pytest.raises(CheckpointError, match=r"trunc\d+\.npz.*(truncated|corrupt)"):
            load(bad)


def test_corrupt_bytes_are_a_clear_error(good_file, tmp_path):
    data = bytearray(good_file.read_bytes())
    with zipfile.ZipFile(good_file) as z:
        info = z.getinfo("a0.npy")
    start = info.header_offset + 30 + len(info.filename) + 200   # inside the array's bytes
    data[start:start + 8] = b"\xff" * 8
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"flipped\.npz.*(CRC|corrupt)"):
        load(bad)


def test_foreign_and_missing_files_are_clear_errors(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(2), bias=np.zeros(1))
    with pytest.raises(CheckpointError, match=r"foreign\.npz.*weights.*not written by mg.save"):
        load(foreign)
    npy = tmp_path / "a.npy"
    np.save(npy, np.ones(2))
    with pytest.raises(CheckpointError, match=r"a\.npy.*single \.npy array"):
        load(npy)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match=r"notes\.txt.*not an \.npz"):
        load(text)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load(empty)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError):
        load(tmp_path)
    wrong_header = tmp_path / "hdr.npz"
    np.savez(wrong_header, __minigen__=np.array("{not json"))
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load(wrong_header)
    with pytest.raises(ValueError, match="unknown device"):
        load(foreign, map_location="tpu")


# ------------------------------------------------------------------ exact resume
TRAIN_SCRIPT = textwrap.dedent('''
    import sys
    import numpy as np
    import minigen as mg
    import minigen.functional as F
    import minigen.nn as nn
    import minigen.optim as optim
    from minigen.serialization import save, load


    def build():
        model = nn.Sequential(nn.Linear(4, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3),
                              nn.Linear(32, 32), nn.Tanh(), nn.Dropout(0.2), nn.Linear(32, 1))
        opt = optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
        sched = optim.StepLR(opt, step_size=7, gamma=0.5)
        ema = optim.EMA(model, decay=0.9)
        return model, opt, sched, ema


    def train(model, opt, sched, ema, start, stop):
        true_w = np.array([[1.0], [-2.0], [0.5], [3.0]], dtype=np.float32)
        for step in range(start, stop):
            x = mg.randn(16, 4)                     # batches drawn from minigen's generator
            y = x @ mg.tensor(true_w)
            loss = F.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            ema.update()


    def checkpoint(model, opt, sched, ema, step):
        return {"model": model.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "ema": ema.state_dict(),
                "rng": mg.get_rng_state(), "step": step}


    if __name__ == "__main__":
        ckpt_path, total, out_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        mg.manual_seed(12345)                      # a different seed: everything must come from the file
        model, opt, sched, ema = build()
        ckpt = load(ckpt_path)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        ema.load_state_dict(ckpt["ema"])
        mg.set_rng_state(ckpt["rng"])
        train(model, opt, sched, ema, ckpt["step"], total)
        save(checkpoint(model, opt, sched, ema, total), out_path)
''')


def test_resume_in_a_new_process_is_bit_for_bit(tmp_path):
    script = tmp_path / "train_script.py"
    script.write_text(TRAIN_SCRIPT)
    namespace = {"__name__": "train_script"}
    exec(compile(TRAIN_SCRIPT, str(script), "exec"), namespace)
    build, train, checkpoint = namespace["build"], namespace["train"], namespace["checkpoint"]
    total, k = 20, 8

    mg.manual_seed(0)
    model, opt, sched, ema = build()
    train(model, opt, sched, ema, 0, total)
    straight = checkpoint(model, opt, sched, ema, total)

    mg.manual_seed(0)
    model, opt, sched, ema = build()
    train(model, opt, sched, ema, 0, k)
    save(checkpoint(model, opt, sched, ema, k), tmp_path / "step8.npz")

    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "step8.npz"), str(total),
                             str(tmp_path / "resumed.npz")], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    resumed = load(tmp_path / "resumed.npz")

    for name, array in straight["model"].items():
        assert np.array_equal(resumed["model"][name], array), name
        assert resumed["model"][name].dtype == array.dtype
    for index, state in straight["optimizer"]["state"].items():
        for key, value in state.items():
            assert np.array_equal(resumed["optimizer"]["state"][index][key], value), (index, key)
    assert resumed["optimizer"]["param_groups"] == straight["optimizer"]["param_groups"]
    assert resumed["scheduler"] == straight["scheduler"]
    assert all(np.array_equal(a, b) for a, b in zip(resumed["ema"]["shadow"], straight["ema"]["shadow"]))
    assert resumed["rng"] == straight["rng"]
    # the run really trained (and dropout really drew random masks)
    assert not np.array_equal(straight["model"]["0.weight"], checkpoint(*build(), 0)["model"]["0.weight"])


# -- errors that name the problem -------------------------------------------------------------
def test_map_location_cuda_without_a_gpu_names_the_asked_device(tmp_path):
    from minigen import backend
    if backend.cupy_available():
        pytest.skip("a GPU is available here: map_location='cuda' works")
    path = tmp_path / "cpu_saved.npz"
    save({"w": np.ones(3, np.float32)}, path)               # saved on the CPU
    with pytest.raises(RuntimeError) as info:
        load(path, map_location="cuda")
    message = str(info.value)
    assert "map_location='cuda'" in message and "cpu_saved.npz" in message
    assert "use map_location='cpu'" in message
    assert "saved from device" not in message               # the file's arrays are on the CPU


def _write_header(path, header_text, arrays=None):
    """A .npz like mg.save's, with the given header text."""
    np.savez(path, __minigen__=np.array(header_text), **(arrays or {}))


def _mutations(tree, rng):
    """Variants of a header tree: each node in turn replaced by a value of another type."""
    odd_values = [None, 5, -1.5, "x", True, [], [1, 2], {}, {"__array__": 3}, {"__dict__": 7},
                  {"__dict__": [[[1], 2]]}, {"__tuple__": "ab"}, {"__float__": "1e999x"},
                  {"__float__": [1]}, {"__array__": "a0", "device": "tpu"},
                  {"__array__": "a0", "tensor": "module"}, {"__array__": "a0", "scalar": 1},
                  {"__array__": "a0", "requires_grad": "yes"}, {"__array__": "a0", "scalar": True},
                  {"__array__": "a1", "tensor": "parameter"}, {"__array__": "a9"},
                  {"__dict__": [[1, 2]], "ordered": "no"}, {"unknown": 1}]

    def nodes(node, at):
        yield at
        if isinstance(node, list):
            for i, v in enumerate(node):
                yield from nodes(v, at + [i])
        elif isinstance(node, dict):
            for k, v in node.items():
                yield from nodes(v, at + [k])

    def replaced(node, at, value):
        if not at:
            return value
        copy = list(node) if isinstance(node, list) else dict(node)
        copy[at[0]] = replaced(node[at[0]], at[1:], value)
        return copy

    for at in nodes(tree, []):          # every node, with a third of the odd values each
        for i in rng.permutation(len(odd_values))[:len(odd_values) // 3]:
            yield replaced(tree, at, odd_values[i])
    for _ in range(30):                                     # and some random pairs of changes
        at = list(nodes(tree, []))
        t = tree
        for _ in range(2):
            t = replaced(t, at[rng.integers(len(at))], odd_values[rng.integers(len(odd_values))])
            at = list(nodes(t, []))
        yield t


def test_malformed_headers_raise_checkpoint_error_naming_the_file(tmp_path):
    good = tmp_path / "good.npz"
    save({"model": OrderedDict(w=mg.tensor(np.ones(2, np.float32), requires_grad=True)),
          "items": (1, 2.5, float("nan")), "step": np.int64(3), "labels": np.array(["a", "b"])},
         good)
    with np.load(good) as z:
        header_text = str(z["__minigen__"])
        arrays = {k: z[k] for k in z.files if k != "__minigen__"}
    header = json.loads(header_text)
    bad = tmp_path / "fuzzed.npz"
    texts = [header_text[:n] for n in range(0, len(header_text), 11)]         # truncations
    texts += [json.dumps(dict(header, tree=t))
              for t in _mutations(header["tree"], np.random.default_rng(0))]  # wrong types
    texts += [json.dumps(dict(header, version=v)) for v in ("1", None, [1], 2)]
    texts += [json.dumps(v) for v in (None, [], "minigen", {"format": "minigen"})]
    deep = 100_000
    texts += ['{"format": "minigen", "version": 1, "tree": ' + "[" * deep + "]" * deep + "}",
              '{"format": "minigen", "version": 1, "tree": ' + '{"__tuple__": [' * 500 + "1"
              + "]}" * 500 + "}",
              '{"format": "minigen", "version": 1, "tree": ' + '{"__dict__": [["k", ' * 300
              + "1" + "]]}" * 300 + "}"]
    refused = 0
    for text in texts:
        _write_header(bad, text, arrays)
        try:
            load(bad)                    # some mutations are still valid checkpoints
        except CheckpointError as err:
            assert "fuzzed.npz" in str(err)
            refused += 1
    assert refused > 0.8 * len(texts)
    _write_header(bad, header_text, arrays)
    assert load(bad)["step"] == 3                            # the untouched header loads


def test_saving_an_absurdly_deep_object_is_refused_before_writing(tmp_path):
    deep = 1
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 100 levels"):
        save(deep, tmp_path / "deep.npz")
    assert os.listdir(tmp_path) == []


def test_save_into_a_file_or_an_empty_path_is_a_clear_error(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(NotADirectoryError, match=r"notes\.txt' is a file, not a directory"):
        save({"step": 1}, a_file / "ckpt.npz")
    with pytest.raises(NotADirectoryError, match=r"notes\.txt' is a file"):
        save({"step": 1}, a_file / "sub" / "ckpt.npz")
    with pytest.raises(ValueError, match="the path is empty"):
        save({"step": 1}, "")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        save({"step": 1}, tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


_KILLED_SAVE = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    sys.path.insert(0, {repo!r})
    import minigen as mg
    real_fsync = os.fsync
    def killed(fd):                          # the data is written; die before the rename
        os.kill(os.getpid(), signal.SIGKILL)
    os.fsync = killed
    mg.save({{"w": np.ones(200_000)}}, {path!r})
""")


@pytest.mark.skipif(os.name != "posix", reason="kill -9 and pid checks are POSIX")
def test_the_next_save_removes_what_a_killed_save_left(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"step": 1}, path)
    other = tmp_path / ".other.npz.1.abcdefgh.tmp"            # another checkpoint's: kept
    other.write_bytes(b"x")
    left = []
    for _ in range(2):                  # the second killed save already removes the first's
        done = subprocess.run([sys.executable, "-c", _KILLED_SAVE.format(repo=REPO, path=str(path))])
        assert done.returncode == -9
        left = [n for n in os.listdir(tmp_path) if n.startswith(".ckpt.npz.")]
        assert len(left) == 1 and os.path.getsize(tmp_path / left[0]) > 1_000_000
    assert load(path)["step"] == 1                            # the old checkpoint is intact
    running = tmp_path / f".ckpt.npz.{os.getppid()}.zzzzzzzz.tmp"   # a live writer: kept
    running.write_bytes(b"x")
    save({"step": 2}, path)
    assert sorted(os.listdir(tmp_path)) == sorted([".other.npz.1.abcdefgh.tmp", running.name,
                                                   "ckpt.npz"])
    assert load(path)["step"] == 2
