"""The OpenCL backend (``"cl"``/``"cl:N"`` devices): kernels in ``kernels/*.cl``, built per device."""

from tinygrad_bn.backend.opencl.backend import OpenCLBackend
from tinygrad_bn.backend.opencl.layout import CLBuffer

__all__ = ["CLBuffer", "OpenCLBackend"]
