"""Build hook: cffi compiles ctensor into ``tinygrad_bn._ctensor`` (see ctensor/build_ctensor.py).

Everything else about the package lives in pyproject.toml; setuptools does not accept
``cffi_modules`` there, so it is declared here.
"""

from setuptools import setup

setup(cffi_modules=["ctensor/build_ctensor.py:ffibuilder"])
