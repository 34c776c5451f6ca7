"""cffi build script for ctensor (API mode, out of line).

setup.py names ``ctensor/build_ctensor.py:ffibuilder`` in ``cffi_modules``; ``pip install .``
then compiles the C sources below into the extension ``tinygrad_bn._ctensor``. The cdef is the
block between CDEF_BEGIN and CDEF_END in the public header, so the two never drift apart.
"""

import os
import platform
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "include", "ctensor.h")
SOURCE_DIR = os.path.join(HERE, "src")


def _relative(path: str) -> str:
    # setuptools wants source paths relative to the project root (where setup.py runs).
    return os.path.relpath(path, os.getcwd())


def read_cdef(header_path: str) -> str:
    with open(header_path, encoding="utf-8") as header:
        text = header.read()
    begin, end = text.index("/* CDEF_BEGIN */"), text.index("/* CDEF_END */")
    return text[begin + len("/* CDEF_BEGIN */") : end]


def compile_args() -> list[str]:
    # -fno-trapping-math: nothing reads the FP exception flags, so selects may compute both arms
    # (which lets the activation loops vectorise); values stay IEEE exact.
    args = ["-O3", "-std=c11", "-fopenmp", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wextra"]
    if sys.platform == "darwin":  # Apple clang has no bundled OpenMP; build single-threaded there.
        args.remove("-fopenmp")
    if os.environ.get("CTENSOR_NATIVE") == "1" and platform.machine() in ("x86_64", "AMD64"):
        args.append("-march=native")  # opt-in only: the default build must run on any x86-64
    return args


sources = sorted(os.path.join(SOURCE_DIR, name) for name in os.listdir(SOURCE_DIR) if name.endswith(".c"))
headers = [HEADER] + sorted(os.path.join(SOURCE_DIR, name) for name in os.listdir(SOURCE_DIR) if name.endswith(".h"))

ffibuilder = FFI()
ffibuilder.cdef(read_cdef(HEADER))
ffibuilder.set_source(
    "tinygrad_bn._ctensor",
    '#include "ctensor.h"',
    sources=[_relative(path) for path in sources],
    depends=[_relative(path) for path in headers],
    include_dirs=[_relative(os.path.join(HERE, "include"))],
    extra_compile_args=compile_args(),
    # -ldl: dlopen for the OpenCL loader (in libc itself from glibc 2.34)
    extra_link_args=[] if sys.platform == "darwin" else ["-fopenmp", "-ldl"],
)

if __name__ == "__main__":
    ffibuilder.compile(tmpdir=os.path.join(HERE, "..", "build", "cffi"), verbose=True)
