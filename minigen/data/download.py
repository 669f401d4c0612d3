"""Fetching a file over HTTP(S) into a cache, checked against its SHA-256.

The check matters: Fashion-MNIST's canonical address is plain ``http://``, so the
checksum is the only thing that says the bytes are the published ones.  A file is
written to ``<name>.part`` first and renamed only once its checksum is right, so an
interrupted or wrong download never sits in the cache under the real name.
"""
from __future__ import annotations

import hashlib
import os
import sys
import urllib.error
import urllib.request

__all__ = ["DownloadError", "ChecksumError", "sha256_of", "download", "cache_dir", "offline"]

_CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """A file could not be fetched (network error, HTTP error, too large)."""


class ChecksumError(DownloadError):
    """A file arrived whole but its SHA-256 is not the expected one."""


def cache_dir(*parts: str) -> str:
    """The per-user cache directory of minigen: ``$XDG_CACHE_HOME/minigen`` or ``~/.cache/minigen``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "minigen", *parts)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def offline() -> bool:
    """Whether ``$MINIGEN_OFFLINE`` forbids downloads: 1/true/yes/on, or 0/false/no/off
    (any case; unset or empty: not offline).  Another value is an error, not a guess."""
    value = os.environ.get("MINIGEN_OFFLINE", "")
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ValueError(f"MINIGEN_OFFLINE={value!r} is not understood: use one of "
                     f"{', '.join(_TRUE)} (no downloads) or {', '.join(_FALSE[:-1])} (downloads allowed)")


def sha256_of(path: str) -> str:
    """Hex SHA-256 digest of a file, read in chunks (the files can be tens of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, dest: str, sha256: str, *, timeout: float = 30.0,
             max_bytes: int = 100 * 2**20, quiet: bool = False) -> str:
    """Download ``url`` to ``dest`` and check its SHA-256; return ``dest``.

    Raises :class:`ChecksumError` (the partial file is removed) when the digest differs,
    :class:`DownloadError` for network/HTTP failures or a body over ``max_bytes``.
    """
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    part = dest + ".part"
    digest = hashlib.sha256()
    if not quiet:
        print(f"minigen: downloading {url}", file=sys.stderr)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            size = 0
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(f"{url}: more than {max_bytes} bytes, refusing")
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as err:
        _remove(part)
        raise DownloadError(f"could not download {url}: {err}") from err
    except BaseException:
        _remove(part)            # also on Ctrl-C: never leave a half file behind
        raise

    got = digest.hexdigest()
    if got != sha256.lower():
        _remove(part)
        raise ChecksumError(f"{url}: SHA-256 mismatch (expected {sha256}, got {got}); "
                            f"the file was not kept")
    os.replace(part, dest)       # atomic: the real name appears only when complete
    return dest


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
