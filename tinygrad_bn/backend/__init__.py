"""Devices and the backends that serve them.

``"cpu"`` is always here. ``"cl"``/``"cl:N"`` name OpenCL devices, served once an OpenCL
backend registers itself; until then asking for one is a clear error.
"""

from __future__ import annotations

from tinygrad_bn.backend.base import Backend
from tinygrad_bn.backend.cpu import CPUBackend

_BACKENDS: dict[str, Backend] = {"cpu": CPUBackend()}
KNOWN_DEVICE_TYPES = ("cpu", "cl")


class Device:
    """A device name such as ``cpu`` or ``cl:1`` (compares equal to its string)."""

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
        self.index = int(index) if index else None

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
    try:
        return _BACKENDS[device.type]
    except KeyError:
        from tinygrad_bn.cl import missing_backend_message

        raise RuntimeError(missing_backend_message(str(device), device.index)) from None


__all__ = ["CPU", "Backend", "Device", "get_backend"]
