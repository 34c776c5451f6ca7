"""tb.save / tb.load: round trips, and clear errors for files that are not what save wrote."""

import io
import json
import zipfile

import numpy as np
import pytest

import tinygrad_bn as tb
from tinygrad_bn import nn
from tinygrad_bn.testing import assert_close


def saved_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    tb.save(obj, buffer)
    return buffer.getvalue()


def test_a_state_dict_round_trips_through_a_file(tmp_path):
    tb.manual_seed(0)
    source = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2, bias=False)).double()
    path = tmp_path / "model.tbn"
    tb.save(source.state_dict(), path)
    loaded = tb.load(path)
    assert list(loaded) == list(source.state_dict())
    target = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2, bias=False)).double()
    target.load_state_dict(loaded)
    for (name, mine), (_, theirs) in zip(source.state_dict().items(), target.state_dict().items()):
        assert theirs.dtype is mine.dtype is tb.float64, name
        assert_close(theirs, mine, rtol=0, atol=0)


def test_nested_values_keep_their_types():
    obj = {
        "step": 7,
        "lr": 0.5,
        "name": "adam",
        "flags": [True, None],
        "pair": (1, 2.5),
        3: {"mask": tb.tensor([True, False]), "ids": tb.tensor([1, 2]), "w": tb.ones(2, requires_grad=True)},
    }
    loaded = tb.load(io.BytesIO(saved_bytes(obj)))
    assert {k: v for k, v in loaded.items() if k != 3} == {k: v for k, v in obj.items() if k != 3}
    inner = loaded[3]
    assert inner["mask"].dtype is tb.bool_ and inner["mask"].tolist() == [True, False]
    assert inner["ids"].dtype is tb.int64 and inner["ids"].tolist() == [1, 2]
    assert inner["w"].requires_grad and inner["w"].is_leaf and inner["w"].tolist() == [1.0, 1.0]


def test_saving_an_unsupported_object_is_a_clear_error():
    with pytest.raises(TypeError, match="save: cannot save an object of type set"):
        tb.save({"a": {1, 2}}, io.BytesIO())
    with pytest.raises(TypeError, match="save: dict keys must be str or int, got float"):
        tb.save({1.5: 1}, io.BytesIO())


def test_a_truncated_file_is_a_clear_error(tmp_path):
    data = saved_bytes({"w": tb.ones(100)})
    path = tmp_path / "truncated.tbn"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(tb.SerializationError, match=r"truncated.tbn is truncated, corrupted"):
        tb.load(path)


def test_a_flipped_byte_in_tensor_data_fails_the_checksum(tmp_path):
    data = bytearray(saved_bytes({"w": tb.arange(0.0, 64.0)}))
    position = data.index(np.arange(0.0, 64.0, dtype=np.float32)[10:12].tobytes())
    data[position] ^= 0xFF
    path = tmp_path / "flipped.tbn"
    path.write_bytes(bytes(data))
    with pytest.raises(tb.SerializationError, match="corrupted"):
        tb.load(path)


def write_archive(path, members: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as file:
        np.savez(file, **members)


def structure(obj) -> np.ndarray:
    return np.frombuffer(json.dumps({"format": "tinygrad_bn.save/1", "object": obj}).encode(), dtype=np.uint8)


def test_a_pickled_member_is_refused_and_never_run(tmp_path):
    path = tmp_path / "hostile.tbn"
    hostile = np.array([print], dtype=object)  # an object array is stored as a pickle
    write_archive(path, {"__structure__": structure({"tensor": "t0"}), "t0": hostile})
    with pytest.raises(tb.SerializationError, match=r"hostile\.tbn is truncated, corrupted or not a tinygrad_bn file"):
        tb.load(path)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"t0": np.zeros(2)}, "not a tinygrad_bn file"),
        ({"__structure__": structure({"tensor": "t9"})}, "refers to a missing tensor 't9'"),
        ({"__structure__": structure({"tensor": "t0"}), "t0": np.zeros(2, np.int8)}, "unsupported dtype int8"),
        ({"__structure__": structure({"eval": "print(1)"})}, "malformed structure entry"),
        ({"__structure__": structure({"dict": [["a"]]})}, "malformed dict entry"),
        ({"__structure__": np.frombuffer(b'{"format": "other"}', np.uint8)}, "was not written by tinygrad_bn.save"),
    ],
)
def test_unexpected_content_is_a_clear_error(tmp_path, members, message):
    path = tmp_path / "odd.tbn"
    write_archive(path, members)
    with pytest.raises(tb.SerializationError, match=message):
        tb.load(path)


def test_files_that_are_not_archives_are_clear_errors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    bare = tmp_path / "bare.npy"
    np.save(bare, np.zeros(3))
    with pytest.raises(tb.SerializationError, match=r"notes\.txt"):
        tb.load(text)
    with pytest.raises(tb.SerializationError, match="bare NumPy array file"):
        tb.load(bare)
    with pytest.raises(FileNotFoundError):
        tb.load(tmp_path / "missing.tbn")


def test_the_archive_is_a_plain_zip_of_arrays_and_json():
    with zipfile.ZipFile(io.BytesIO(saved_bytes({"w": tb.ones(2)}))) as archive:
        assert sorted(archive.namelist()) == ["__structure__.npy", "t0.npy"]


def test_zero_dim_tensors_keep_their_shape():
    module = nn.Linear(2, 2)
    module.register_buffer("steps", tb.tensor(7))
    loaded = tb.load(io.BytesIO(saved_bytes(module.state_dict())))
    assert loaded["steps"].shape == () and loaded["steps"].item() == 7
    module.load_state_dict(loaded)
