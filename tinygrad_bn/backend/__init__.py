"""Devices and the backends that serve them.

``"cpu"`` is always here. ``"cl:N"`` is OpenCL device N (``tb.cl.devices()`` lists them), served by
the OpenCL backend, made on first use; plain ``"cl"`` means device ``$TINYGRAD_BN_CL_DEVICE`` (an
index), or 0. Where OpenCL or that device is missing, asking for it is a clear error.
"""

from __future__ import annotations

import os
import threading

from tinygrad_bn.backend.base import Backend
from tinygrad_bn.backend.cpu import CPUBackend

_CPU_BACKEND = CPUBackend()
_CL_BACKENDS: dict[int, Backend] = {}
_CL_BACKENDS_LOCK = threading.Lock()  # one backend per device, even when threads ask for it together
KNOWN_DEVICE_TYPES = ("cpu", "cl")
CL_DEVICE_ENV = "TINYGRAD_BN_CL_DEVICE"


def default_cl_index() -> int:
    """The device plain ``"cl"`` means: ``$TINYGRAD_BN_CL_DEVICE``, or 0."""
    value = os.environ.get(CL_DEVICE_ENV, "0")
    if not value.isdigit():
        raise ValueError(f"{CL_DEVICE_ENV} must be a device index (0, 1, ...), got {value!r}")
    return int(value)


class Device:
    """A device name such as ``cpu`` or ``cl:1`` (compares equal to its string). ``"cl"`` is read as
    ``"cl:<default index>"`` (see ``default_cl_index``), as a tensor on it reports the device it is on."""

    __slots__ = ("index", "type")

    def __init__(self, spec: str | Device):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cl:0', got {type(spec).__name__}")
        kind, _, index = spec.partition(":")
        if kind not in KNOWN_DEVICE_TYPES or (index and not index.isdigit()) or (kind == "cpu" and index):
            raise ValueError(f"unknown device {spec!r}: expected 'cpu', 'cl' or 'cl:N'")
        self.type = kind
        self.index = int(index) if index else (default_cl_index() if kind == "cl" else None)

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return (
            f"device(type={self.type!r})" if self.index is None else f"device(type={self.type!r}, index={self.index})"
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = Device(other)
            except ValueError:
                return False
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = Device("cpu")


def get_backend(device: Device) -> Backend:
    """The backend serving ``device``; RuntimeError when none is available."""
    if device.type == "cpu":
        return _CPU_BACKEND
    backend = _CL_BACKENDS.get(device.index)
    return backend if backend is not None else _open_cl_backend(device)


def _open_cl_backend(device: Device) -> Backend:
    with _CL_BACKENDS_LOCK:
        backend = _CL_BACKENDS.get(device.index)
        return backend if backend is not None else _make_cl_backend(device)


def _make_cl_backend(device: Device) -> Backend:
    """The OpenCL backend of ``device``, made now (a second one would own a second context: buffers of
    one cannot be used by kernels of the other)."""
    from tinygrad_bn import cl

    # (by index, not position: devices() leaves out a device whose properties cannot be read)
    info = next((found for found in cl.devices() if found.index == device.index), None)
    if info is None:
        raise RuntimeError(cl.missing_backend_message(str(device), device.index))
    from tinygrad_bn.backend.opencl import OpenCLBackend

    backend = _CL_BACKENDS[device.index] = OpenCLBackend(device.index, info.name, info.fp64, info.local_memory)
    return backend


__all__ = ["CPU", "Backend", "Device", "get_backend"]
