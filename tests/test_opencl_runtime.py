"""The OpenCL runtime layer: ctensor loads the ICD loader at run time and lists the devices; a "cl"
tensor where OpenCL or the device is missing gets an error that says what is there and what is
missing (the backend itself is tested in test_opencl_backend.py).

CI installs PoCL (.ci/run), so there OpenCL must be available: a missing device is a failure. On a
developer machine without OpenCL the device tests skip.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest
from conftest import IN_CI

import tinygrad_bn as tb


@pytest.fixture
def cl_devices() -> list[tb.cl.CLDevice]:
    if not tb.cl.is_available():
        message = f"OpenCL is not available: {tb.cl.unavailable_reason()}"
        if IN_CI:
            pytest.fail(message + " (CI installs PoCL in .ci/run)")
        pytest.skip(message)
    return tb.cl.devices()


def test_devices_report_their_properties(cl_devices):
    assert cl_devices, "is_available() promised at least one device"
    for index, device in enumerate(cl_devices):
        assert device.index == index
        assert device.name and device.platform and device.version.startswith("OpenCL")
        assert device.compute_units >= 1 and device.global_memory > 0


def test_a_cl_tensor_lives_on_the_default_device(cl_devices):
    assert tb.zeros(2, device="cl").device == "cl:0"


def test_a_cl_index_past_the_devices_is_refused(cl_devices):
    count = len(cl_devices)
    with pytest.raises(RuntimeError, match=rf"device cl:{count}: there are {count} OpenCL device\(s\): cl:0 "):
        tb.zeros(2, device=f"cl:{count}")


def test_a_device_is_found_by_its_index_not_its_position_in_the_list(cl_devices, monkeypatch):
    from tinygrad_bn import backend

    # devices() leaves out a device whose properties cannot be read: here cl:0, so cl:1 comes first
    monkeypatch.setattr(tb.cl, "devices", lambda: [dataclasses.replace(cl_devices[0], index=1)])
    monkeypatch.setattr(backend, "_CL_BACKENDS", {})
    with pytest.raises(RuntimeError, match=r"device cl:0: there are 1 OpenCL device\(s\): cl:1 "):
        backend.get_backend(tb.Device("cl:0"))


def test_without_a_loader_opencl_is_unavailable_with_the_reason(tmp_path):
    program = (
        "import tinygrad_bn as tb\n"
        "assert not tb.cl.is_available() and tb.cl.devices() == []\n"
        "try:\n"
        "    tb.zeros(2, device='cl')\n"
        "except RuntimeError as error:\n"
        "    print(error)\n"
    )
    env = {**os.environ, tb.cl.LIBRARY_ENV: str(tmp_path / "libOpenCL.so.1")}
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "device cl:0: OpenCL is not available here: cannot load the OpenCL loader" in done.stdout
    assert "pocl-opencl-icd" in done.stdout
