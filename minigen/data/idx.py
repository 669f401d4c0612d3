"""Reading (and writing) IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a tiny header followed by a raw, big-endian array::

    bytes 0-1   zero
    byte  2     element type   0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                0x0D float32, 0x0E float64
    byte  3     number of dimensions  d
    4*d bytes   each dimension as a big-endian uint32
    the rest    prod(dims) elements, big-endian, C order

So ``train-images-idx3-ubyte`` starts ``00 00 08 03  00 00 EA 60  00 00 00 1C  00 00 00 1C``:
uint8, three dimensions, 60000 x 28 x 28.  Files are usually gzip-compressed (``.gz``).

Every check below raises :class:`IDXError` naming the file and what is wrong, so a
truncated download or a file of another format is reported at once, not as a
reshape error three calls later.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

__all__ = ["IDXError", "read_idx", "write_idx"]

# type byte -> NumPy dtype (big-endian, as stored on disk)
_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in _DTYPES.items()}

_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file is not a well-formed IDX file (the message names the file and the fault)."""


def _read_bytes(path: str) -> bytes:
    """The file's content, un-gzipped when it starts with the gzip magic bytes.

    We look at the content, not the name: a ``.gz`` that was already unpacked by a
    browser, or a raw file someone gzipped, both still load.
    """
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise IDXError(f"{path}: the gzip stream is truncated or corrupt ({err})") from None


def read_idx(path: str | os.PathLike, expect_shape: tuple | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip) into a native-endian NumPy array.

    ``expect_shape`` may give the dimensions the caller needs, with ``None`` for "any"
    (e.g. ``(None, 28, 28)`` for an image file); a mismatch raises :class:`IDXError`.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise IDXError(f"{path}: only {len(data)} bytes, too short for an IDX header")
    if data[0] != 0 or data[1] != 0:
        raise IDXError(
            f"{path}: not an IDX file (the first two bytes are {data[:2].hex()}, expected 0000)")
    code, ndim = data[2], data[3]
    if code not in _DTYPES:
        raise IDXError(f"{path}: unknown IDX element type 0x{code:02x}")
    if ndim == 0:
        raise IDXError(f"{path}: IDX header declares zero dimensions")

    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IDXError(f"{path}: truncated header ({len(data)} bytes, the {ndim} "
                       f"dimensions need {header_len})")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))

    dtype = _DTYPES[code]
    # Python ints: a product of 32-bit sizes can overflow int64 (and wrap to 0 or below)
    expected = math.prod(shape) * dtype.itemsize
    body = len(data) - header_len
    if body < expected:
        raise IDXError(f"{path}: truncated: header says shape {shape} ({expected} bytes of "
                       f"data) but only {body} bytes follow")
    if body > expected:
        raise IDXError(f"{path}: {body - expected} unexpected bytes after the data of "
                       f"shape {shape}")

    if expect_shape is not None:
        ok = len(expect_shape) == len(shape) and all(
            e is None or e == s for e, s in zip(expect_shape, shape))
        if not ok:
            want = tuple("any" if e is None else e for e in expect_shape)
            raise IDXError(f"{path}: shape {shape}, expected {want}")

    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    # native byte order and a writable copy, so callers may modify it freely
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> str:
    """Write ``array`` as an IDX file; gzip it when ``compress`` (default: name ends in .gz)."""
    path = os.fspath(path)
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise TypeError(f"IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, _CODES[native], array.ndim])
    header += np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=native.newbyteorder(">")).tobytes()
    if compress is None:
        compress = path.endswith(".gz")
    if compress:
        payload = gzip.compress(payload, mtime=0)   # mtime=0: same bytes on every run
    with open(path, "wb") as f:
        f.write(payload)
    return path
