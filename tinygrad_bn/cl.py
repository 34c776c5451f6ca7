"""OpenCL devices: whether OpenCL can be used here, and which devices it offers.

    tb.cl.is_available()    # an ICD loader, a driver and at least one device are present
    tb.cl.devices()         # [CLDevice(index=0, name='pthread-haswell-...', platform='Portable Computing ...', ...)]
    tb.cl.synchronize()     # wait until the work queued on "cl" is done (for timing)

ctensor loads the ICD loader at run time (``libOpenCL.so.1``, or the file named by
``$TINYGRAD_BN_OPENCL_LIBRARY``), so tinygrad_bn builds and runs where OpenCL is absent. Tensors on
``"cl:N"`` live on device N (``tinygrad_bn.backend.opencl``); where OpenCL or that device is missing,
asking for one raises an error that says what is there and what is missing.
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass

from tinygrad_bn._ctensor_lib import ffi, lib

LIBRARY_ENV = "TINYGRAD_BN_OPENCL_LIBRARY"
_OPEN_LOCK = threading.Lock()  # ct_cl_open fills ctensor's device list: one thread at a time


@dataclass(frozen=True)
class CLDevice:
    """One OpenCL device: its index among all platforms' devices (``"cl:<index>"``) and what it reports."""

    index: int
    name: str
    platform: str
    version: str
    compute_units: int
    global_memory: int  # bytes
    fp64: bool  # cl_khr_fp64: float64 kernels can run
    local_memory: bool  # dedicated __local memory (GPUs); CPU drivers emulate it with cached memory


@functools.lru_cache(maxsize=1)
def _open() -> tuple[bool, str]:
    """(opened, why not): the first call loads the runtime; the answer holds for the process."""
    path = os.environ.get(LIBRARY_ENV, "")
    with _OPEN_LOCK:  # (lru_cache lets threads that call together all run the first call)
        status = lib.ct_cl_open(path.encode() or ffi.NULL)
        return status == lib.CT_OK, ffi.string(lib.ct_cl_error()).decode()


def is_available() -> bool:
    """Whether an OpenCL loader, a driver and at least one device are present."""
    return _open()[0]


def unavailable_reason() -> str:
    """Why OpenCL is not available ('' when it is)."""
    return _open()[1]


def devices() -> list[CLDevice]:
    """Every device of every OpenCL platform, in platform order (empty when OpenCL is unavailable)."""
    if not is_available():
        return []
    found = []
    info = ffi.new("ct_cl_device *")
    for index in range(lib.ct_cl_device_count()):
        if lib.ct_cl_device_info(index, info) != lib.CT_OK:
            continue
        found.append(
            CLDevice(
                index=index,
                name=ffi.string(info.name).decode(errors="replace"),
                platform=ffi.string(info.platform).decode(errors="replace"),
                version=ffi.string(info.version).decode(errors="replace"),
                compute_units=int(info.compute_units),
                global_memory=int(info.global_memory),
                fp64=bool(info.has_fp64),
                local_memory=bool(info.local_memory),
            )
        )
    return found


def missing_backend_message(device: str, index: int | None) -> str:
    """What is there and what is missing, for an error about a ``"cl"`` tensor."""
    if not is_available():
        return f"device {device}: OpenCL is not available here: {unavailable_reason()}"
    found = devices()
    listed = ", ".join(f"cl:{d.index} {d.name} ({d.platform})" for d in found)
    return f"device {device}: there are {len(found)} OpenCL device(s): {listed or 'none'}"


def synchronize(device: str = "cl") -> None:
    """Wait until every kernel queued on ``device`` has run (kernels run asynchronously; reading a
    value waits by itself, so only timing needs this)."""
    from tinygrad_bn.backend import Device, get_backend

    target = Device(device)
    if target.type != "cl":
        raise ValueError(f"synchronize: expected an OpenCL device such as 'cl' or 'cl:1', got {device!r}")
    get_backend(target).queue.finish()
