"""Fashion-MNIST / MNIST: the search order, downloading (against a loopback server),
checksum failures, and the embedded subset."""
import hashlib
import os
import socket

import numpy as np
import pytest

from minigen.data import (EMBEDDED_PATH, MNIST, ChecksumError, DownloadError, FashionMNIST,
                          download, write_idx)

DEBIAN = "/usr/share/datasets/fashion-mnist"


def _write_split(folder, n, fill, split="test"):
    """Tiny IDX files with Fashion-MNIST's names: n images all equal to ``fill``."""
    folder.mkdir(parents=True, exist_ok=True)
    image_file, _, label_file, _ = FashionMNIST.FILES[split]
    write_idx(folder / image_file, np.full((n, 28, 28), fill, np.uint8))
    write_idx(folder / label_file, np.arange(n, dtype=np.uint8) % 10)


class NoSystem(FashionMNIST):
    """Fashion-MNIST that ignores this machine's /usr/share copy and the real mirrors."""
    SYSTEM_DIRS = ()
    MIRRORS = ()


# -- the embedded subset ----------------------------------------------------------------
def test_embedded_subset_is_small_real_and_class_balanced():
    assert os.path.getsize(EMBEDDED_PATH) < 3 * 2**20
    train = FashionMNIST("train", source="embedded")
    test = FashionMNIST("test", source="embedded")
    assert train.is_embedded and test.is_embedded
    assert train.images.shape == (3000, 28, 28) and train.images.dtype == np.uint8
    assert np.bincount(train.labels).tolist() == [300] * 10
    assert np.bincount(test.labels).tolist() == [100] * 10
    # real pictures: dark background, bright garments, many grey levels
    assert train.images[:, 0, 0].mean() < 5 and train.images.max() == 255
    assert len(np.unique(train.images)) == 256
    with np.load(EMBEDDED_PATH) as z:
        assert len(np.unique(z["train_index"])) == 3000 and z["train_index"].max() < 60000
        assert len(np.unique(z["test_index"])) == 1000 and z["test_index"].max() < 10000


def test_embedded_subset_ships_its_licence():
    text = open(os.path.join(os.path.dirname(EMBEDDED_PATH), "LICENSE.fashion-mnist"),
                encoding="utf-8").read()
    assert "MIT License" in text and "Zalando SE" in text and "fashion_mnist_subset.npz" in text


@pytest.mark.skipif(not os.path.isdir(DEBIAN), reason="Debian dataset-fashion-mnist not installed")
@pytest.mark.parametrize("split", ["train", "test"])
def test_embedded_subset_equals_the_published_images(split):
    full = FashionMNIST(split, root=DEBIAN)
    assert not full.is_embedded and len(full) == (60000 if split == "train" else 10000)
    with np.load(EMBEDDED_PATH) as z:
        index = z[f"{split}_index"]
        np.testing.assert_array_equal(z[f"{split}_images"], full.images[index])
        np.testing.assert_array_equal(z[f"{split}_labels"], full.labels[index])


# -- search order ------------------------------------------------------------------------
def test_search_order_root_then_env_then_cache(isolated_data_env, monkeypatch):
    tmp = isolated_data_env
    _write_split(tmp / "cache" / "minigen" / "fashion-mnist", 3, fill=1)
    assert NoSystem("test").images[0, 0, 0] == 1               # the cache
    _write_split(tmp / "env" / "fashion-mnist", 4, fill=2)
    monkeypatch.setenv("MINIGEN_DATA", str(tmp / "env"))
    ds = NoSystem("test")
    assert ds.images[0, 0, 0] == 2 and len(ds) == 4            # $MINIGEN_DATA beats the cache
    assert ds.source == str(tmp / "env" / "fashion-mnist")
    _write_split(tmp / "root", 5, fill=3)
    assert NoSystem("test", root=str(tmp / "root")).images[0, 0, 0] == 3   # root beats both


def test_env_folder_may_hold_the_files_directly(isolated_data_env, monkeypatch):
    _write_split(isolated_data_env / "flat", 2, fill=7)
    monkeypatch.setenv("MINIGEN_DATA", str(isolated_data_env / "flat"))
    assert NoSystem("test").images[0, 0, 0] == 7


def test_a_split_needs_both_files(isolated_data_env):
    folder = isolated_data_env / "cache" / "minigen" / "fashion-mnist"
    _write_split(folder, 3, fill=1)
    os.remove(folder / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.gz"):
        NoSystem("test", source="files")


def test_fallback_to_embedded_says_so_in_one_line(isolated_data_env, capsys):
    ds = NoSystem("train")
    assert ds.is_embedded and len(ds) == 3000
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "embedded" in err[0] and "3000" in err[0]
    NoSystem("train", verbose=False)
    assert capsys.readouterr().err == ""


def test_offline_env_forbids_download(isolated_data_env, monkeypatch, http_server):
    url, folder, requests = http_server
    monkeypatch.setenv("MINIGEN_OFFLINE", "1")

    class Mirrored(NoSystem):
        MIRRORS = (url,)
    assert Mirrored("test", verbose=False).is_embedded and requests == []


def test_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        FashionMNIST("valid")
    with pytest.raises(ValueError, match="source"):
        FashionMNIST("test", source="web")


def test_mnist_has_no_embedded_fallback(isolated_data_env, monkeypatch):
    monkeypatch.setenv("MINIGEN_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="mnist test split"):
        MNIST("test")


# -- downloading ---------------------------------------------------------------------------
def _serve_split(www, n=6):
    """Put a tiny test split on the server; return a FILES table with its true checksums."""
    _write_split(www, n, fill=9)
    image_file, _, label_file, _ = FashionMNIST.FILES["test"]
    sha = {name: hashlib.sha256((www / name).read_bytes()).hexdigest()
           for name in (image_file, label_file)}
    return {"test": (image_file, sha[image_file], label_file, sha[label_file])}


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_download_into_cache_then_reuse(isolated_data_env, http_server, capsys):
    url, www, requests = http_server

    class Tiny(NoSystem):
        FILES = _serve_split(www)
    ds = Tiny("test", base_url=url)
    cache = isolated_data_env / "cache" / "minigen" / "fashion-mnist"
    assert ds.source == str(cache) and len(ds) == 6 and ds.images[0, 0, 0] == 9
    assert sorted(requests) == ["/t10k-images-idx3-ubyte.gz", "/t10k-labels-idx1-ubyte.gz"]
    assert not [p for p in os.listdir(cache) if p.endswith(".part")]
    assert "downloading" in capsys.readouterr().err
    Tiny("test", base_url=url)                       # second time: from the cache
    assert len(requests) == 2


def test_wrong_checksum_raises_and_keeps_nothing(isolated_data_env, http_server):
    url, www, _ = http_server
    files = _serve_split(www)
    image_file, _, label_file, label_sha = files["test"]

    class Tampered(NoSystem):
        FILES = {"test": (image_file, "0" * 64, label_file, label_sha)}
    with pytest.raises(ChecksumError, match="SHA-256 mismatch") as info:
        Tampered("test", base_url=url)             # source="auto" must not hide this
    assert image_file in str(info.value)
    cache = isolated_data_env / "cache" / "minigen" / "fashion-mnist"
    assert not (cache / image_file).exists() and not (cache / (image_file + ".part")).exists()


def test_unreachable_server(isolated_data_env, http_server, capsys):
    url, www, _ = http_server
    dead = f"http://127.0.0.1:{_closed_port()}"      # nobody listens: connection refused

    class Tiny(NoSystem):
        FILES = _serve_split(www)
    ds = Tiny("test", base_url=dead)                 # auto: falls back, one line says why
    assert ds.is_embedded
    err = capsys.readouterr().err
    assert "download failed" in err
    with pytest.raises(DownloadError, match="every mirror failed"):
        Tiny("test", base_url=dead, source="files")


def test_download_function_bounds_and_http_errors(tmp_path, http_server):
    url, www, _ = http_server
    (www / "big").write_bytes(b"x" * 5000)
    sha = hashlib.sha256(b"x" * 5000).hexdigest()
    with pytest.raises(DownloadError, match="more than 1000 bytes"):
        download(url + "/big", str(tmp_path / "big"), sha, max_bytes=1000, quiet=True)
    assert not (tmp_path / "big").exists() and not (tmp_path / "big.part").exists()
    with pytest.raises(DownloadError, match="404"):
        download(url + "/missing", str(tmp_path / "m"), sha, quiet=True)
    assert download(url + "/big", str(tmp_path / "ok"), sha, quiet=True) == str(tmp_path / "ok")
    assert (tmp_path / "ok").read_bytes() == b"x" * 5000


# -- an explicit root, MINIGEN_OFFLINE spellings -------------------------------------------
def test_an_explicit_root_is_used_or_fails_naming_the_missing_files(isolated_data_env):
    tmp = isolated_data_env
    _write_split(tmp / "cache" / "minigen" / "fashion-mnist", 3, fill=1)   # another copy exists
    root = tmp / "mine"
    _write_split(root, 4, fill=5)
    assert FashionMNIST("test", root=str(root)).images[0, 0, 0] == 5
    image_file, _, label_file, _ = FashionMNIST.FILES["test"]
    os.remove(root / label_file)
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST("test", root=str(root))
    message = str(info.value)
    assert str(root) in message and label_file in message
    assert f"lacks {image_file}" not in message                       # only the missing one
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FashionMNIST("test", root=str(tmp / "nowhere"))
    with pytest.raises(ValueError, match="root="):
        FashionMNIST("test", root=str(root), source="embedded")


@pytest.mark.parametrize("value, forbids", [("1", True), ("true", True), ("YES", True),
                                            ("on", True), (" True ", True), ("0", False),
                                            ("false", False), ("No", False), ("off", False),
                                            ("", False)])
def test_minigen_offline_understands_the_usual_spellings(isolated_data_env, monkeypatch,
                                                          http_server, value, forbids):
    url, folder, requests = http_server
    monkeypatch.setenv("MINIGEN_OFFLINE", value)

    class Mirrored(NoSystem):
        MIRRORS = (url,)                    # the server has no files: a try shows as a request
    assert Mirrored("test", verbose=False).is_embedded
    assert (requests == []) == forbids


def test_minigen_offline_with_an_unknown_spelling_is_an_error(isolated_data_env, monkeypatch):
    monkeypatch.setenv("MINIGEN_OFFLINE", "maybe")
    with pytest.raises(ValueError, match=r"MINIGEN_OFFLINE='maybe' is not understood.*true"):
        NoSystem("test")


def test_torchvision_spelling_train_flag_and_a_hint_for_a_folder_as_split(isolated_data_env):
    root = isolated_data_env / "mine"
    _write_split(root, 4, fill=5, split="test")
    assert len(FashionMNIST(root=str(root), train=False)) == 4
    assert FashionMNIST(train=False, source="embedded").split == "test"
    with pytest.raises(ValueError, match=r"write FashionMNIST\(root='data', train=True\)"):
        FashionMNIST("data")
