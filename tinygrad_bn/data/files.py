"""Where data files live and how they arrive: the data root, MD5 checks, and a verified download.

The root is the ``root`` argument, else the environment variable ``TINYGRAD_BN_DATA``, else the
cache directory ``$XDG_CACHE_HOME/tinygrad_bn`` (``~/.cache/tinygrad_bn`` without XDG_CACHE_HOME).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

DATA_ENV = "TINYGRAD_BN_DATA"
_CHUNK = 1 << 20


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/tinygrad_bn``, or ``~/.cache/tinygrad_bn``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinygrad_bn"


def resolve_root(root: str | os.PathLike | None = None) -> tuple[Path, str]:
    """The data root, and how it was chosen (for error messages)."""
    if root is not None:
        return Path(root), "the root argument"
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]), f"${DATA_ENV}"
    return cache_dir(), f"the cache directory (no root argument, ${DATA_ENV} unset)"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """``root`` if given, else ``$TINYGRAD_BN_DATA``, else ``cache_dir()``."""
    return resolve_root(root)[0]


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def download_file(file_name: str, mirrors: Sequence[str], destination: Path, md5: str) -> Path:
    """Fetch ``file_name`` from the first of ``mirrors`` (URL prefixes) that serves it with this md5.

    The bytes go to a temporary file beside ``destination``, which is renamed into place only after
    the md5 matched: an interrupted or corrupt download never leaves a file that looks complete.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file_name
        handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                got = _copy_url(url, out)
            if got == md5:
                os.replace(temporary, destination)
                return destination
            failures.append(f"{url}: md5 {got}, expected {md5}")
        except (OSError, ValueError, http.client.HTTPException) as error:  # urllib's URLError is an OSError
            failures.append(f"{url}: {error}")
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    raise RuntimeError(f"download: no mirror served {file_name} with md5 {md5}:\n  " + "\n  ".join(failures))


def _copy_url(url: str, out) -> str:
    """Stream ``url`` into the open file ``out``; the md5 of what was written."""
    digest = hashlib.md5(usedforsecurity=False)
    with urllib.request.urlopen(url, timeout=60) as response:
        while chunk := response.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()
