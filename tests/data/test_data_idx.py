"""IDX reader: round trips, the published header layout, and every kind of broken file."""
import gzip
import os

import numpy as np
import pytest

from minigen.data import IDXError, read_idx, write_idx

DEBIAN = "/usr/share/datasets/fashion-mnist"


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_round_trip(tmp_path, dtype, name):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((5, 3, 4)) * 50).astype(dtype)
    path = write_idx(tmp_path / name, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (5, 3, 4)
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_header_layout_matches_the_published_format(tmp_path):
    """Hand-written bytes: zero, zero, type 0x08, 3 dims, big-endian sizes, then pixels."""
    raw = bytes([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3]) + bytes(range(6))
    (tmp_path / "x").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "x"), np.arange(6).reshape(2, 1, 3))
    # big-endian int32: 0x00000102 = 258
    raw = bytes([0, 0, 0x0C, 1, 0, 0, 0, 1, 0, 0, 1, 2])
    (tmp_path / "y").write_bytes(raw)
    assert read_idx(tmp_path / "y").tolist() == [258]


def test_gzip_detected_by_content_not_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_idx(tmp_path / "plain.gz", array, compress=False)     # .gz name, raw content
    write_idx(tmp_path / "packed", array, compress=True)        # no .gz, gzip content
    np.testing.assert_array_equal(read_idx(tmp_path / "plain.gz"), array)
    np.testing.assert_array_equal(read_idx(tmp_path / "packed"), array)


def _good_bytes():
    return (bytes([0, 0, 0x08, 2, 0, 0, 0, 4, 0, 0, 0, 5]) + bytes(20))


@pytest.mark.parametrize("payload, words", [
    (_good_bytes()[:-3], "truncated"),                      # data cut short
    (_good_bytes()[:9], "truncated header"),                # header cut short
    (_good_bytes() + b"xx", "unexpected bytes"),            # trailing garbage
    (b"\x89PNG\r\n\x1a\n" + bytes(30), "not an IDX file"),  # a foreign file
    (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 0]), "unknown IDX element type"),
    (bytes([0, 0, 0x08, 0]), "zero dimensions"),
    (b"\x00", "too short"),
])
def test_broken_files_raise_naming_file_and_fault(tmp_path, payload, words):
    path = tmp_path / "broken-images-idx3-ubyte"
    path.write_bytes(payload)
    with pytest.raises(IDXError) as info:
        read_idx(path)
    assert str(path) in str(info.value) and words in str(info.value)


def test_truncated_gzip_stream(tmp_path):
    packed = gzip.compress(_good_bytes() * 50)
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[:len(packed) // 2])
    with pytest.raises(IDXError, match="gzip stream is truncated or corrupt") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_expect_shape(tmp_path):
    path = write_idx(tmp_path / "im", np.zeros((3, 28, 27), np.uint8))
    assert read_idx(path, expect_shape=(None, 28, 27)).shape == (3, 28, 27)
    with pytest.raises(IDXError, match=r"shape \(3, 28, 27\), expected \('any', 28, 28\)"):
        read_idx(path, expect_shape=(None, 28, 28))
    with pytest.raises(IDXError, match="expected"):
        read_idx(path, expect_shape=(None,))


@pytest.mark.skipif(not os.path.isdir(DEBIAN), reason="Debian dataset-fashion-mnist not installed")
def test_real_fashion_mnist_test_split():
    images = read_idx(os.path.join(DEBIAN, "t10k-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DEBIAN, "t10k-labels-idx1-ubyte.gz"))
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10
    assert labels[:5].tolist() == [9, 2, 1, 1, 6]    # the first labels, as published


@pytest.mark.parametrize("dims", [(65536, 65536, 65536, 65536),        # 2**64 bytes: int64 wraps to 0
                                  (2**32 - 1, 2**32 - 1, 2**32 - 1)])
def test_sizes_whose_product_overflows_are_named(tmp_path, dims):
    path = tmp_path / "huge-idx"
    path.write_bytes(bytes([0, 0, 0x08, len(dims)]) + np.asarray(dims, ">u4").tobytes())
    with pytest.raises(IDXError, match=r"huge-idx: truncated: header says shape"):
        read_idx(path)
