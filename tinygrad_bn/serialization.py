"""``tb.save`` / ``tb.load``: state dicts (and other nests of plain values and tensors) on disk,
in a format whose loading never runs code.

A file is a NumPy ``.npz`` archive (a zip; every member carries a CRC-32): one array per tensor,
named ``t0``, ``t1``, ..., and a ``__structure__`` member holding UTF-8 JSON that describes the
object (dicts, lists, tuples, numbers, strings, None and references to the tensor arrays).
Loading uses ``allow_pickle=False`` and JSON only, checks every reference and dtype, and turns
any truncation, corruption or unexpected content into ``SerializationError``.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from typing import IO, Any

import numpy as np

from tinygrad_bn.dtype import ALL_DTYPES
from tinygrad_bn.tensor import Tensor, from_numpy

FORMAT = "tinygrad_bn.save/1"
_STRUCTURE = "__structure__"
_ALLOWED_DTYPES = {dtype.numpy for dtype in ALL_DTYPES}

Path = str | os.PathLike | IO[bytes]


class SerializationError(RuntimeError):
    """A file that ``tb.load`` cannot read: truncated, corrupted, or not written by ``tb.save``."""


def save(obj: Any, f: Path) -> None:
    """Write ``obj`` (dicts with str/int keys, lists, tuples, tensors, numbers, strings, None) to ``f``.

    Tensors are saved detached, with their dtype, shape and ``requires_grad``; memory shared
    between tensors is not preserved (each is written on its own).
    """
    arrays: dict[str, np.ndarray] = {}
    structure = {"format": FORMAT, "object": _encode(obj, arrays)}
    arrays[_STRUCTURE] = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as file:
            np.savez(file, **arrays)
    else:
        np.savez(f, **arrays)


def _encode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, Tensor):
        key = f"t{len(arrays)}"
        arrays[key] = np.array(obj.detach().cpu().numpy(), order="C")  # (ascontiguousarray would make 0-d 1-d)
        return {"tensor": key, "requires_grad": obj.requires_grad}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be str or int, got {type(key).__name__}")
        return {"dict": [[key, _encode(value, arrays)] for key, value in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {type(obj).__name__: [_encode(item, arrays) for item in obj]}
    raise TypeError(
        f"save: cannot save an object of type {type(obj).__name__}; expected tensors, dicts, lists, tuples, "
        "numbers, strings or None"
    )


def load(f: Path, map_location: Any = None, weights_only: bool = True) -> Any:
    """Read what ``save`` wrote. Nothing in the file is ever executed (``weights_only`` is
    accepted for PyTorch compatibility and is always in effect). Tensors load on the CPU."""
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<file object>")
    try:
        archive = np.load(f, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise SerializationError(f"load: {name} is a bare NumPy array file, not a tinygrad_bn archive")
        with archive:
            structure = json.loads(bytes(archive[_STRUCTURE]).decode("utf-8"))
            if not isinstance(structure, dict) or structure.get("format") != FORMAT:
                raise SerializationError(f"load: {name} was not written by tinygrad_bn.save (format {FORMAT})")
            return _decode(structure["object"], archive, name)
    except SerializationError:
        raise
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, TypeError) as error:
        raise SerializationError(f"load: {name} is truncated, corrupted or not a tinygrad_bn file ({error})") from None


def _decode(node: Any, archive: Any, name: str) -> Any:
    if not isinstance(node, dict) or len(node) not in (1, 2):
        raise SerializationError(f"load: {name} has a malformed structure entry: {str(node)[:80]}")
    if "tensor" in node:
        key = node["tensor"]
        if not isinstance(key, str) or key == _STRUCTURE or key not in archive.files:
            raise SerializationError(f"load: {name} refers to a missing tensor {key!r}")
        array = archive[key]
        if array.dtype not in _ALLOWED_DTYPES:
            raise SerializationError(f"load: {name} holds tensor {key!r} of unsupported dtype {array.dtype}")
        tensor = from_numpy(np.array(array, order="C"))
        return tensor.requires_grad_() if node.get("requires_grad") is True and tensor.is_floating_point() else tensor
    (kind, content), *_ = node.items()
    if kind == "value" and (content is None or isinstance(content, (bool, int, float, str))):
        return content
    if kind == "dict" and isinstance(content, list):
        pairs = []
        for pair in content:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))):
                raise SerializationError(f"load: {name} has a malformed dict entry: {str(pair)[:80]}")
            pairs.append((pair[0], _decode(pair[1], archive, name)))
        return dict(pairs)
    if kind in ("list", "tuple") and isinstance(content, list):
        items = [_decode(item, archive, name) for item in content]
        return items if kind == "list" else tuple(items)
    raise SerializationError(f"load: {name} has a malformed structure entry: {str(node)[:80]}")
