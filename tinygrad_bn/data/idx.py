"""The IDX file format of MNIST and Fashion-MNIST, gzipped or not.

An IDX file is a 4-byte magic number — two zero bytes, a type code, the number of dimensions —
then one big-endian uint32 per dimension, then the values, row-major and big-endian. MNIST's
images are magic 2051 (0x00000803: uint8, 3 dims) and its labels 2049 (0x00000801: uint8, 1 dim).
"""

from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

_TYPE_CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


class DataFileError(ValueError):
    """A data file that is malformed or is not the file expected; the message names the file."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in the IDX file at ``path`` (gunzipped first if it is gzip data)."""
    with open(path, "rb") as file:
        return parse_idx(file.read(), os.fspath(path))


_MAX_DIMS = 32  # what NumPy arrays hold


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array held by IDX bytes ``data`` (raw or gzipped), in native byte order.

    Raises ``DataFileError`` naming ``name`` for corrupt gzip data, a bad magic number, a header
    cut short, or a data length that disagrees with the dims in the header.
    """
    if data[:2] == _GZIP_MAGIC:
        data = _gunzip(data, name)
    if len(data) < 4:
        raise DataFileError(f"{name}: not an IDX file: {len(data)} bytes, fewer than the 4-byte magic number")
    magic, code, ndim = int.from_bytes(data[:4], "big"), data[2], data[3]
    if data[:2] != b"\0\0" or code not in _TYPE_CODES or ndim == 0:
        raise DataFileError(
            f"{name}: bad magic number {magic} (0x{magic:08x}): an IDX file starts with two zero bytes, a type code "
            f"(0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64) and the number of dims "
            f"(at least 1), e.g. 2051 for images and 2049 for labels"
        )
    if ndim > _MAX_DIMS:
        raise DataFileError(f"{name}: the header gives {ndim} dims; at most {_MAX_DIMS} are supported")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataFileError(f"{name}: truncated header: {ndim} dims need {header_size} bytes, the file has {len(data)}")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_TYPE_CODES[code])
    expected = header_size + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else f"{len(data) - expected} bytes after the data"
        raise DataFileError(
            f"{name}: {problem}: the header gives shape {shape} of {dtype.name}, which takes {expected} bytes "
            f"with the header, but the file has {len(data)}"
        )
    values = np.frombuffer(data, dtype, count=math.prod(shape), offset=header_size)
    try:
        return values.astype(dtype.newbyteorder("=")).reshape(shape)  # a writable, native-order copy
    except ValueError as error:  # dims NumPy cannot hold, e.g. (2**32 - 1, 2**32 - 1, 0)
        raise DataFileError(f"{name}: the header's shape {shape} cannot be an array: {error}") from None


def _gunzip(data: bytes, name: str) -> bytes:
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise DataFileError(f"{name}: corrupt gzip data: {error}") from None
