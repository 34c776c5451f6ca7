"""One OpenCL device as the backend uses it: its queue, memory allocations, and the kernel programs
built from ``kernels/*.cl`` (lazily, once per program and element type, then cached).

Every call goes through ctensor's thin wrappers (``ct_cl_*``), which report failures as status codes
with the reason; here they become exceptions naming the operation.
"""

from __future__ import annotations

import struct
import threading
from importlib import resources

import numpy as np

from tinygrad_bn._ctensor_lib import ffi, lib

# OpenCL C element types by NumPy dtype (bool is stored as one byte 0/1, as NumPy does).
CL_TYPES = {
    np.dtype(np.float32): "float",
    np.dtype(np.float64): "double",
    np.dtype(np.int64): "long",
    np.dtype(np.bool_): "uchar",
}
MAX_DIMS = 8  # strided operands carry their dims in a long8
_BUILD_LOG_CAPACITY = 1 << 16

# Kernel argument kinds: how each is packed (struct format) for ct_cl_kernel_launch.
#   B a buffer (its cl_mem handle)   l a long   i an int   D a long8 of dims (a tuple of 8 ints)
#   T a scalar of the program's element type   A a scalar of ACC (double where the device has fp64)
_ARGUMENT_FORMATS = {"B": "Q", "l": "q", "i": "i", "D": "8q"}
_SCALAR_FORMATS = {"float": "f", "double": "d", "long": "q", "uchar": "B"}


class CLError(RuntimeError):
    """An OpenCL call failed."""


def _check(status: int, op: str) -> None:
    if status != lib.CT_OK:
        reason = ffi.string(lib.ct_cl_last_error()).decode(errors="replace")
        if status == lib.CT_ERR_OUT_OF_MEMORY:
            raise MemoryError(f"{op}: the OpenCL device is out of memory ({reason})")
        raise CLError(f"{op}: {reason}")


class Allocation:
    """A device memory block, released when the last view holding it is gone.

    ``known_range`` is (min, max) of an int64 block uploaded from the host and not written since
    (None otherwise): it lets cross entropy check class targets without reading them back.
    """

    __slots__ = ("__weakref__", "address", "handle", "known_range", "nbytes")

    def __init__(self, device: DeviceQueue, nbytes: int, initial: np.ndarray | None = None):
        """``nbytes`` of device memory, holding a copy of the dense array ``initial`` when given (copied at
        once, without waiting for queued work)."""
        out = ffi.new("void **")
        host = ffi.NULL if initial is None or initial.nbytes == 0 else ffi.from_buffer(initial)
        # (OpenCL refuses empty buffers: an empty tensor holds one spare byte.)
        _check(lib.ct_cl_buffer_create(device.queue, max(nbytes, 1), host, out), "allocate")
        self.handle = ffi.gc(out[0], lib.ct_cl_buffer_release)
        self.address = int(ffi.cast("uintptr_t", out[0]))
        self.nbytes = nbytes
        self.known_range: tuple[int, int] | None = None


class Kernel:
    """One kernel of a built program, with its argument layout."""

    __slots__ = ("device", "handle", "name", "sizes", "struct")

    def __init__(self, device: DeviceQueue, program, name: str, signature: str, scalar_formats: dict[str, str]):
        out = ffi.new("void **")
        _check(lib.ct_cl_kernel_create(program, name.encode(), out), f"kernel {name}")
        self.handle = ffi.gc(out[0], lib.ct_cl_kernel_release)
        self.device, self.name = device, name
        formats = [scalar_formats.get(kind) or _ARGUMENT_FORMATS[kind] for kind in signature]
        self.struct = struct.Struct("<" + "".join(formats))
        self.sizes = bytes(struct.calcsize("<" + f) for f in formats)

    def __call__(self, global_size: tuple[int, ...], local_size: tuple[int, ...] | None, *args) -> None:
        """Enqueue over ``global_size`` work-items (rounded up to whole groups of ``local_size``)."""
        flat = []
        for arg in args:
            if isinstance(arg, tuple):
                flat.extend(arg)
            else:
                flat.append(arg)
        if local_size is not None:
            global_size = tuple(-(-size // group) * group for size, group in zip(global_size, local_size))
        packed, local = self.struct.pack(*flat), ffi.NULL if local_size is None else list(local_size)
        # NOTE: a kernel's arguments are state of the kernel object until the launch is enqueued, and cffi lets
        # other threads run meanwhile: without the device's lock two threads launching one kernel mixed their
        # arguments (wrong buffers, a crash).
        with self.device.lock:
            status = lib.ct_cl_kernel_launch(
                self.device.queue, self.handle, len(self.sizes), self.sizes, packed, len(global_size),
                list(global_size), local,
            )  # fmt: skip
        _check(status, self.name)


class Program:
    """A ``kernels/<family>.cl`` program built for one element type; its kernels made on first use."""

    def __init__(self, device: DeviceQueue, family: str, dtype: np.dtype, signatures: dict[str, str]):
        self.device, self.family, self.dtype, self.signatures = device, family, dtype, signatures
        cl_type = CL_TYPES[dtype]
        options = [f"-DT={cl_type}", "-cl-std=CL1.2", "-w"]  # -w: PoCL prints warnings to stderr
        if dtype.kind == "f":
            options.append("-DT_FLOAT")
        if dtype == np.bool_:
            options.append("-DT_BOOL")
        if device.fp64:
            options.append("-DHAS_FP64")
        source = _source("common") + "\n" + _source(family)
        out, log = ffi.new("void **"), ffi.new("char[]", _BUILD_LOG_CAPACITY)
        status = lib.ct_cl_program_build(
            device.queue, source.encode(), " ".join(options).encode(), out, log, _BUILD_LOG_CAPACITY
        )
        if status != lib.CT_OK:
            text = ffi.string(log).decode(errors="replace")
            reason = ffi.string(lib.ct_cl_last_error()).decode(errors="replace")
            raise RuntimeError(
                f"OpenCL: building kernels/{family}.cl for {cl_type} on cl:{device.index} failed ({reason}); "
                f"build log:\n{text}"
            )
        self.handle = ffi.gc(out[0], lib.ct_cl_program_release)
        self.scalar_formats = {"T": _SCALAR_FORMATS[cl_type], "A": "d" if device.fp64 else "f"}
        self._kernels: dict[str, Kernel] = {}

    def kernel(self, name: str) -> Kernel:
        found = self._kernels.get(name)
        if found is None:
            found = Kernel(self.device, self.handle, name, self.signatures[name], self.scalar_formats)
            self._kernels[name] = found
        return found


def _source(family: str) -> str:
    return resources.files("tinygrad_bn.backend.opencl").joinpath("kernels", f"{family}.cl").read_text("utf-8")


class DeviceQueue:
    """An OpenCL device's queue and what lives on it (allocations, built programs)."""

    def __init__(self, index: int, fp64: bool, name: str):
        out = ffi.new("ct_cl_queue **")
        _check(lib.ct_cl_queue_create(index, out), f"cl:{index}")
        self.queue = ffi.gc(out[0], lib.ct_cl_queue_release)
        self.index, self.fp64, self.name = index, fp64, name
        self.lock = threading.Lock()  # kernel launches and program builds, one thread at a time
        self.max_work_group_size = int(lib.ct_cl_queue_max_work_group_size(self.queue))
        self._programs: dict[tuple[str, np.dtype], Program] = {}

    def program(self, family: str, dtype: np.dtype, signatures: dict[str, str]) -> Program:
        """The ``family`` program for ``dtype``, built on first use."""
        key = (family, dtype)
        found = self._programs.get(key)
        if found is None:
            with self.lock:  # (built once even when threads ask for it together)
                found = self._programs.get(key)
                if found is None:
                    found = self._programs[key] = Program(self, family, dtype, signatures)
        return found

    def read(self, allocation: Allocation, byte_offset: int, out: np.ndarray) -> None:
        """Copy ``out.nbytes`` bytes from the allocation into a dense host array (waits for pending work)."""
        if out.nbytes:
            status = lib.ct_cl_buffer_read(self.queue, allocation.handle, byte_offset, out.nbytes, ffi.from_buffer(out))
            _check(status, "read")

    def fill(self, allocation: Allocation, pattern: np.ndarray, nbytes: int) -> None:
        """Repeat one element's bytes over the allocation's first ``nbytes`` bytes."""
        if nbytes:
            status = lib.ct_cl_buffer_fill(
                self.queue, allocation.handle, ffi.from_buffer(pattern), pattern.nbytes, 0, nbytes
            )
            _check(status, "fill")

    def finish(self) -> None:
        _check(lib.ct_cl_finish(self.queue), "finish")
