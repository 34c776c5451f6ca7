"""tinygrad_bn.data: the IDX reader on files the tests write, MNIST's root/md5/download logic on tiny
stand-in files, DataLoader and default_collate against PyTorch's, the toy datasets, and the real
MNIST/Fashion-MNIST files (from $TINYGRAD_BN_DATA or ../shared/data) against their published sums.

Nothing here touches the network: downloads are served from file:// URLs under tmp_path, and a
fixture makes any socket connection fail.
"""

import collections
import functools
import gzip
import hashlib
import os
import socket
import struct
from pathlib import Path

import numpy as np
import pytest

import tinygrad_bn as tb
from tinygrad_bn.data import (
    MNIST,
    DataFileError,
    DataLoader,
    Dataset,
    FashionMNIST,
    Subset,
    TensorDataset,
    cache_dir,
    data_root,
    default_collate,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    placement_table,
    random_split,
    read_idx,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def idx_bytes(values: np.ndarray, type_code: int = 0x08, big_endian: str = ">u1") -> bytes:
    """An IDX file: zero, zero, type code, ndim; one big-endian uint32 per dim; big-endian values."""
    header = struct.pack(">BBBB", 0, 0, type_code, values.ndim) + struct.pack(f">{values.ndim}I", *values.shape)
    return header + values.astype(big_endian).tobytes()


# --- the IDX reader ---------------------------------------------------------------------------


def test_read_idx_reads_images_and_labels_raw_or_gzipped(tmp_path):
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    (tmp_path / "images").write_bytes(idx_bytes(images))
    (tmp_path / "labels.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    assert idx_bytes(images)[:4] == (2051).to_bytes(4, "big") and idx_bytes(labels)[:4] == (2049).to_bytes(4, "big")
    read_images, read_labels = read_idx(tmp_path / "images"), read_idx(tmp_path / "labels.gz")
    assert read_images.dtype == np.uint8 and read_images.shape == (3, 4, 5)
    np.testing.assert_array_equal(read_images, images)
    np.testing.assert_array_equal(read_labels, labels)
    read_images[0, 0, 0] = 1  # a writable array, not a view of the file's bytes


@pytest.mark.parametrize(
    ("type_code", "big_endian", "dtype"),
    [(0x09, ">i1", np.int8), (0x0B, ">i2", np.int16), (0x0C, ">i4", np.int32), (0x0D, ">f4", np.float32),
     (0x0E, ">f8", np.float64)],
)  # fmt: skip
def test_read_idx_reads_every_type_code_big_endian(tmp_path, type_code, big_endian, dtype):
    values = np.array([[-3, 1, 2], [100, -100, 0]], dtype=dtype)
    (tmp_path / "values.idx").write_bytes(idx_bytes(values, type_code, big_endian))
    got = read_idx(tmp_path / "values.idx")
    assert got.dtype == dtype and got.dtype.isnative
    np.testing.assert_array_equal(got, values)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    (tmp_path / name).write_bytes(data)
    return tmp_path / name


def test_a_bad_magic_number_is_an_error_naming_the_file(tmp_path):
    good = idx_bytes(np.zeros(4, dtype=np.uint8))
    for name, magic in [("not-zero.idx", b"\x01\x00\x08\x01"), ("bad-type.idx", b"\x00\x00\x07\x01")]:
        path = write(tmp_path, name, magic + good[4:])
        with pytest.raises(DataFileError, match=rf"{name}: bad magic number \d+ \(0x0\d000\d01\)"):
            read_idx(path)
    path = write(tmp_path, "zero-dims.idx", b"\x00\x00\x08\x00")
    with pytest.raises(DataFileError, match=r"zero-dims.idx: bad magic number 2048"):
        read_idx(path)


def test_a_file_shorter_than_its_header_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(DataFileError, match=r"empty.idx: not an IDX file: 0 bytes"):
        read_idx(write(tmp_path, "empty.idx", b""))
    header_cut = idx_bytes(np.zeros((2, 28, 28), dtype=np.uint8))[:10]
    with pytest.raises(DataFileError, match=r"header-cut.idx: truncated header: 3 dims need 16 bytes, the file has 10"):
        read_idx(write(tmp_path, "header-cut.idx", header_cut))


def test_a_truncated_file_is_an_error_naming_the_file(tmp_path):
    data = idx_bytes(np.zeros((2, 28, 28), dtype=np.uint8))
    with pytest.raises(
        DataFileError, match=r"cut.idx: truncated: the header gives shape \(2, 28, 28\) .* 1584 .* 1583"
    ):
        read_idx(write(tmp_path, "cut.idx", data[:-1]))


def test_a_count_that_disagrees_with_the_data_is_an_error_naming_the_file(tmp_path):
    labels = idx_bytes(np.arange(5, dtype=np.uint8))
    too_many = labels[:4] + struct.pack(">I", 6) + labels[8:]
    too_few = labels[:4] + struct.pack(">I", 4) + labels[8:]
    with pytest.raises(DataFileError, match=r"count6.idx: truncated: the header gives shape \(6,\)"):
        read_idx(write(tmp_path, "count6.idx", too_many))
    with pytest.raises(DataFileError, match=r"count4.idx: 1 bytes after the data: the header gives shape \(4,\)"):
        read_idx(write(tmp_path, "count4.idx", too_few))


def test_corrupt_gzip_data_is_an_error_naming_the_file(tmp_path):
    compressed = gzip.compress(idx_bytes(np.arange(100, dtype=np.uint8)))
    with pytest.raises(DataFileError, match=r"labels.gz: corrupt gzip data"):
        read_idx(write(tmp_path, "labels.gz", compressed[:-10]))


# --- MNIST's files: root, md5, download -------------------------------------------------------

SPLIT_SIZES = {"train": 6, "t10k": 3}


def tiny_idx_files() -> dict[str, bytes]:
    """The four MNIST file names holding a few images each, raw IDX bytes."""
    files = {}
    for split, count in SPLIT_SIZES.items():
        pixels = (np.arange(count * 28 * 28) * 7 % 256).astype(np.uint8).reshape(count, 28, 28)
        files[f"{split}-images-idx3-ubyte"] = idx_bytes(pixels)
        files[f"{split}-labels-idx1-ubyte"] = idx_bytes((np.arange(count) * 3 % 10).astype(np.uint8))
    return files


TINY = tiny_idx_files()
TINY_GZ = {name: gzip.compress(data, mtime=0) for name, data in TINY.items()}


class TinyMNIST(MNIST):
    folder = "tiny"
    resources = {  # noqa: RUF012 - a class attribute, as MNIST's
        name: (hashlib.md5(TINY_GZ[name]).hexdigest(), hashlib.md5(raw).hexdigest()) for name, raw in TINY.items()
    }


def put_files(folder: Path, files: dict[str, bytes], suffix: str = ".gz") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / (name + suffix)).write_bytes(data)


def expected_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    return read_idx_bytes(TINY[f"{split}-images-idx3-ubyte"]), read_idx_bytes(TINY[f"{split}-labels-idx1-ubyte"])


def read_idx_bytes(data: bytes) -> np.ndarray:
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


@pytest.mark.parametrize("train", [True, False])
def test_mnist_items_are_scaled_images_and_int_labels(tmp_path, train):
    put_files(tmp_path / "tiny", TINY_GZ)
    dataset = TinyMNIST(tmp_path, train=train)
    pixels, labels = expected_split("train" if train else "t10k")
    assert len(dataset) == len(labels) == SPLIT_SIZES["train" if train else "t10k"]
    image, label = dataset[1]
    assert image.dtype is tb.float32 and image.shape == (1, 28, 28)
    np.testing.assert_allclose(image.numpy(), pixels[1][None] / 255.0, rtol=1e-6)
    assert type(label) is int and label == labels[1]
    assert dataset.data.dtype == np.uint8 and dataset.data.shape == (len(labels), 28, 28)
    np.testing.assert_array_equal(dataset.data, pixels)
    assert dataset.targets.dtype is tb.int64 and dataset.targets.tolist() == labels.tolist()
    assert dataset[-1][1] == labels[-1]
    with pytest.raises(IndexError):
        dataset[len(labels)]


def test_mnist_reads_gunzipped_files_by_their_own_md5(tmp_path):
    put_files(tmp_path / "tiny", TINY, suffix="")
    np.testing.assert_array_equal(TinyMNIST(tmp_path).data, expected_split("train")[0])


def test_mnist_applies_transform_and_target_transform(tmp_path):
    put_files(tmp_path / "tiny", TINY_GZ)
    dataset = TinyMNIST(tmp_path, transform=lambda image: image.reshape(-1), target_transform=lambda y: y + 100)
    image, label = dataset[2]
    assert image.shape == (784,) and label == expected_split("train")[1][2] + 100


def test_the_root_is_the_argument_then_the_environment_then_the_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYGRAD_BN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "tinygrad_bn"
    assert data_root() == cache_dir()
    monkeypatch.setenv("TINYGRAD_BN_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "tinygrad_bn"


def test_mnist_reads_from_the_environment_variable(tmp_path, monkeypatch):
    put_files(tmp_path / "from-env" / "tiny", TINY_GZ)
    monkeypatch.setenv("TINYGRAD_BN_DATA", str(tmp_path / "from-env"))
    assert TinyMNIST().root == tmp_path / "from-env"
    assert len(TinyMNIST(train=False)) == SPLIT_SIZES["t10k"]


def test_absent_files_are_an_error_saying_where_and_how_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte.gz \(or train-images-idx3-ubyte\)") as error:
        TinyMNIST(tmp_path)
    message = str(error.value)
    assert str(tmp_path / "tiny") in message and "the root argument" in message and "download=True" in message


def test_a_file_that_is_not_the_published_one_fails_its_md5(tmp_path):
    put_files(tmp_path / "tiny", TINY_GZ)
    other_labels = idx_bytes(np.array([1, 1, 1, 1, 1, 1], dtype=np.uint8))  # well-formed, but other values
    (tmp_path / "tiny" / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(other_labels))
    with pytest.raises(DataFileError, match=r"train-labels-idx1-ubyte.gz: md5 [0-9a-f]{32}, expected .*download=True"):
        TinyMNIST(tmp_path)


def test_images_and_labels_of_different_counts_are_an_error_naming_both(tmp_path):
    class Mismatched(TinyMNIST):
        resources = dict(TinyMNIST.resources)  # noqa: RUF012

    labels = idx_bytes(np.arange(5, dtype=np.uint8))
    Mismatched.resources["train-labels-idx1-ubyte"] = ("unused", hashlib.md5(labels).hexdigest())
    put_files(tmp_path / "tiny", {"train-images-idx3-ubyte": TINY["train-images-idx3-ubyte"]}, suffix="")
    put_files(tmp_path / "tiny", {"train-labels-idx1-ubyte": labels}, suffix="")
    with pytest.raises(DataFileError, match=r"train-images-idx3-ubyte holds shape \(6, 28, 28\) and .*labels.* \(5,\)"):
        Mismatched(tmp_path)


def mirror(folder: Path, files: dict[str, bytes]) -> str:
    put_files(folder, files, suffix="")
    return folder.as_uri() + "/"


def test_download_fetches_verified_files_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYGRAD_BN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    tampered = {name + ".gz": data[:-1] + bytes([data[-1] ^ 1]) for name, data in TINY_GZ.items()}

    class Mirrored(TinyMNIST):
        mirrors = (  # a mirror serving corrupt files, one without them, then a good one
            mirror(tmp_path / "bad", tampered),
            (tmp_path / "missing").as_uri(),
            mirror(tmp_path / "good", {name + ".gz": data for name, data in TINY_GZ.items()}),
        )

    dataset = Mirrored(download=True)
    folder = tmp_path / "cache" / "tinygrad_bn" / "tiny"
    assert sorted(os.listdir(folder)) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]  # no .part left
    assert (folder / "train-images-idx3-ubyte.gz").read_bytes() == TINY_GZ["train-images-idx3-ubyte"]
    np.testing.assert_array_equal(dataset.data, expected_split("train")[0])
    np.testing.assert_array_equal(Mirrored(download=False).data, dataset.data)  # now read from the cache


def test_a_download_no_mirror_serves_correctly_leaves_no_file(tmp_path):
    tampered = {name + ".gz": data + b"x" for name, data in TINY_GZ.items()}

    class BadMirrors(TinyMNIST):
        mirrors = (mirror(tmp_path / "bad", tampered), (tmp_path / "missing").as_uri())

    with pytest.raises(RuntimeError, match=r"no mirror served train-images-idx3-ubyte.gz") as error:
        BadMirrors(tmp_path / "root", download=True)
    assert "bad/train-images-idx3-ubyte.gz: md5" in str(error.value) and "missing" in str(error.value)
    assert os.listdir(tmp_path / "root" / "tiny") == []


# --- datasets and default_collate -------------------------------------------------------------


def test_tensor_dataset_items_are_rows_of_each_tensor():
    x, y = tb.arange(12.0).reshape(4, 3), tb.tensor([0, 1, 0, 1])
    dataset = TensorDataset(x, y)
    assert len(dataset) == 4
    row, label = dataset[2]
    assert row.tolist() == [6.0, 7.0, 8.0] and label.item() == 0
    with pytest.raises(ValueError, match="TensorDataset: tensor 1 has 3 rows, tensor 0 has 4"):
        TensorDataset(x, tb.tensor([0, 1, 2]))


@pytest.mark.parametrize("indices", [[0], [3, 1, 2], [1, 1, 0, 3]])
def test_get_batch_is_default_collate_of_the_items(tmp_path, indices):
    put_files(tmp_path / "tiny", TINY_GZ)
    tensors = TensorDataset(tb.randn(4, 2, 3), tb.tensor([5, 6, 7, 8]))
    for dataset in (
        tensors,
        Subset(tensors, [3, 0, 2, 1]),
        TinyMNIST(tmp_path),
        Subset(TinyMNIST(tmp_path), [5, 4, 3, 2]),
    ):
        batch, oracle = dataset.get_batch(indices), default_collate([dataset[i] for i in indices])
        assert type(batch) is list and len(batch) == 2
        for mine, theirs in zip(batch, oracle):
            assert mine.dtype is theirs.dtype and mine.shape == theirs.shape and mine.tolist() == theirs.tolist()


Point = collections.namedtuple("Point", ["x", "y"])


def torch_collate(batch):
    from torch.utils.data import default_collate as torch_default_collate

    return torch_default_collate(batch)


@pytest.mark.parametrize(
    "batch",
    [
        [(1, 2.5), (3, 4.5)],
        [[True, 1], [False, 2]],
        [{"a": np.float32(1.5), "b": np.arange(3, dtype=np.int32)}, {"a": np.float32(2), "b": np.arange(3, 6)}],
        [np.ones((2, 2)), np.zeros((2, 2))],
        [Point(1, 2.0), Point(3, 4.0)],
        [("a", 1), ("b", 2)],
    ],
    ids=["tuple-of-numbers", "list-of-bool-int", "dict-of-numpy", "float64-arrays", "namedtuple", "strings"],
)
def test_default_collate_matches_pytorch(batch):
    pytest.importorskip("torch")  # conftest turns a skip into a failure in CI

    def as_plain(value):
        if isinstance(value, tb.Tensor):
            return ("tensor", value.dtype.name, value.tolist())
        if hasattr(value, "numpy") and hasattr(value, "dtype"):  # a torch tensor
            return ("tensor", str(value.dtype).removeprefix("torch."), value.tolist())
        if isinstance(value, dict):
            return {key: as_plain(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return (type(value).__name__, [as_plain(item) for item in value])
        return value

    assert as_plain(default_collate(batch)) == as_plain(torch_collate(batch))


def test_default_collate_maps_numpy_types_tinygrad_bn_lacks_to_int64_and_float32():
    assert default_collate([np.array([1, 2], dtype=np.uint8)] * 2).dtype is tb.int64
    assert default_collate([np.float16(1.5), np.float16(2)]).dtype is tb.float32


def test_default_collate_rejects_ragged_lists_and_unknown_types():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers"):
        default_collate([object(), object()])


def test_default_collate_stacks_tensors_that_require_grad_with_their_graph():
    rows = [tb.ones(2, requires_grad=True), tb.zeros(2, requires_grad=True)]
    batch = default_collate(rows)
    (batch * tb.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert rows[0].grad.tolist() == [1.0, 2.0] and rows[1].grad.tolist() == [3.0, 4.0]


def test_random_split_deals_counts_or_fractions_like_pytorch():
    assert [len(part) for part in random_split(range(10), [0.33, 0.33, 0.34])] == [4, 3, 3]
    assert [len(part) for part in random_split(range(11), [0.5, 0.5])] == [6, 5]
    parts = random_split(range(10), [7, 3], generator=tb.Generator().manual_seed(0))
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    again = random_split(range(10), [7, 3], generator=tb.Generator().manual_seed(0))
    assert [p.indices for p in parts] == [p.indices for p in again]
    with pytest.raises(ValueError, match=r"random_split: lengths \[5, 4\] do not add up to the dataset's length 10"):
        random_split(range(10), [5, 4])


# --- DataLoader -------------------------------------------------------------------------------


def numbered(n: int) -> TensorDataset:
    return TensorDataset(tb.arange(n), tb.arange(n) * 10)


def test_batches_come_in_order_and_the_last_may_be_short():
    loader = DataLoader(numbered(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [x.tolist() for x, _ in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [y.tolist() for _, y in batches][-1] == [80, 90]


def test_the_default_batch_size_is_one():
    assert [x.tolist() for x, _ in DataLoader(numbered(3))] == [[0], [1], [2]]


def test_drop_last_leaves_out_the_short_batch():
    loader = DataLoader(numbered(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [x.tolist() for x, _ in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(numbered(8), batch_size=4, drop_last=True)) == 2


def epochs(loader: DataLoader, count: int = 3) -> list[list[int]]:
    return [[i for x, _ in loader for i in x.tolist()] for _ in range(count)]


def test_shuffle_visits_every_item_once_per_epoch_in_a_new_order():
    orders = epochs(DataLoader(numbered(50), batch_size=8, shuffle=True, seed=0))
    assert all(sorted(order) == list(range(50)) for order in orders)
    assert orders[0] != list(range(50)) and orders[0] != orders[1] != orders[2]


def test_the_same_seed_gives_the_same_epochs_whatever_else_draws():
    first = epochs(DataLoader(numbered(50), batch_size=8, shuffle=True, seed=7))
    tb.randn(100)  # the global generator moves; the loader's own does not
    assert epochs(DataLoader(numbered(50), batch_size=8, shuffle=True, seed=7)) == first
    assert epochs(DataLoader(numbered(50), batch_size=8, shuffle=True, seed=8)) != first


def test_a_generator_or_the_global_seed_makes_shuffles_reproducible():
    def with_generator():
        return epochs(DataLoader(numbered(30), batch_size=4, shuffle=True, generator=tb.Generator().manual_seed(3)))

    assert with_generator() == with_generator()

    def with_global_seed():
        tb.manual_seed(3)
        return epochs(DataLoader(numbered(30), batch_size=4, shuffle=True))

    assert with_global_seed() == with_global_seed()


def test_a_custom_collate_fn_gets_the_list_of_items():
    loader = DataLoader(numbered(5), batch_size=2, collate_fn=lambda items: [int(x) for x, _ in items])
    assert list(loader) == [[0, 1], [2, 3], [4]]


def test_a_plain_sequence_works_as_a_dataset():
    class Squares(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return {"n": index, "square": float(index * index)}

    for dataset in (Squares(), [{"n": i, "square": float(i * i)} for i in range(4)]):
        batch = next(iter(DataLoader(dataset, batch_size=3)))
        assert batch["n"].tolist() == [0, 1, 2] and batch["square"].dtype is tb.float64


def test_bad_loader_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got 0"):
        DataLoader(numbered(3), batch_size=0)
    with pytest.raises(ValueError, match="DataLoader: pass seed or generator, not both"):
        DataLoader(numbered(3), seed=0, generator=tb.Generator())
    with pytest.raises(TypeError, match=r"argument 'generator' must be tb.Generator"):
        DataLoader(numbered(3), generator=np.random.default_rng(0))


# --- toy datasets -----------------------------------------------------------------------------

TOYS = [make_xor, make_moons, make_circles, make_spirals]


@pytest.mark.parametrize("make", TOYS)
def test_toys_return_float32_points_and_int64_labels_reproducibly(make):
    x, y = make(101, noise=0.1, seed=4)
    assert x.dtype is tb.float32 and x.shape == (101, 2) and y.dtype is tb.int64 and y.shape == (101,)
    again_x, again_y = make(101, noise=0.1, generator=tb.Generator().manual_seed(4))
    assert again_x.tolist() == x.tolist() and again_y.tolist() == y.tolist()
    assert make(101, noise=0.1, seed=5)[0].tolist() != x.tolist()
    assert set(y.tolist()) == {0, 1}
    with pytest.raises(ValueError, match=f"{make.__name__}: n_samples must be a positive int, got 0"):
        make(0)
    with pytest.raises(ValueError, match=f"{make.__name__}: noise must be >= 0, got -1"):
        make(10, noise=-1)


def test_xor_labels_are_the_xor_of_the_signs():
    x, y = make_xor(200, seed=0)
    points = x.numpy()
    assert (np.abs(points) <= 1).all()
    assert y.tolist() == ((points[:, 0] > 0) != (points[:, 1] > 0)).astype(int).tolist()


def test_moons_are_two_half_circles_of_radius_one():
    x, y = make_moons(100, seed=0)
    points, labels = x.numpy().astype(np.float64), y.numpy()
    upper, lower = points[labels == 0], points[labels == 1] - [1.0, 0.5]
    assert len(upper) == len(lower) == 50
    np.testing.assert_allclose(np.hypot(*upper.T), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(*lower.T), 1, atol=1e-6)
    assert (upper[:, 1] >= -1e-6).all() and (lower[:, 1] <= 1e-6).all()


def test_circles_have_radius_one_and_factor():
    x, y = make_circles(101, factor=0.5, shuffle=False, seed=0)
    radius, labels = np.hypot(*x.numpy().astype(np.float64).T), y.numpy()
    assert labels.tolist() == [0] * 50 + [1] * 51
    np.testing.assert_allclose(radius[labels == 0], 1, atol=1e-6)
    np.testing.assert_allclose(radius[labels == 1], 0.5, atol=1e-6)


def test_spiral_arms_are_rotations_of_one_another():
    x, y = make_spirals(300, n_classes=3, turns=1.0, shuffle=False, seed=0)
    points, labels = x.numpy().astype(np.float64), y.numpy()
    assert np.bincount(labels).tolist() == [100, 100, 100]
    radius = np.hypot(*points.T)
    assert (radius <= 1 + 1e-6).all()
    # with one turn, a point at radius r on arm k sits at angle 2π(r + k/3), modulo 2π
    expected = 2 * np.pi * (radius + labels / 3)
    np.testing.assert_allclose(np.cos(expected) * radius, points[:, 0], atol=1e-5)
    np.testing.assert_allclose(np.sin(expected) * radius, points[:, 1], atol=1e-5)


def test_the_placement_table_is_the_four_students():
    features, placed = placement_table()
    assert features.dtype is tb.float32 and placed.dtype is tb.int64
    np.testing.assert_allclose(features.numpy(), [[8.9, 100], [6.2, 89], [9.1, 91], [7.7, 76]], rtol=1e-6)
    assert placed.tolist() == [1, 0, 0, 1]


# --- the real files ---------------------------------------------------------------------------

# The published sums (md5, sha256) of the .gz files and the class counts, from shared/data/README.md.
PUBLISHED_SUMS = """
mnist/train-images-idx3-ubyte.gz f68b3c2dcbeaaa9fbdd348bbdeb94873
    440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
mnist/train-labels-idx1-ubyte.gz d53e105ee54ea40749a09fcbcd1e9432
    3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
mnist/t10k-images-idx3-ubyte.gz 9fb629c4189551a2d022fa330f9573f3
    8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
mnist/t10k-labels-idx1-ubyte.gz ec29112dd5afa0611ce80d1b7f02629c
    f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
fashion-mnist/train-images-idx3-ubyte.gz 8d4fb7e6c68d591d4c3dfef9ec88bf0d
    3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84
fashion-mnist/train-labels-idx1-ubyte.gz 25c81989df183df01b3e8a0aad5dffbe
    a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845
fashion-mnist/t10k-images-idx3-ubyte.gz bef4ecab320f06d8554ea6380940ec79
    346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073
fashion-mnist/t10k-labels-idx1-ubyte.gz bb300cfdad3c16e7a12a480ee83cd310
    67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5
""".split()
PUBLISHED = {name: (md5, sha256) for name, md5, sha256 in zip(*[iter(PUBLISHED_SUMS)] * 3)}
CLASS_COUNTS = {
    (MNIST, True): [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    (MNIST, False): [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
    (FashionMNIST, True): [6000] * 10,
    (FashionMNIST, False): [1000] * 10,
}


def real_data_dir() -> Path:
    """$TINYGRAD_BN_DATA, else ../shared/data next to the repository (where CI puts it)."""
    candidates = [Path(os.environ["TINYGRAD_BN_DATA"])] if os.environ.get("TINYGRAD_BN_DATA") else []
    candidates.append(ROOT.parent / "shared" / "data")
    for candidate in candidates:
        if (candidate / "mnist").is_dir() and (candidate / "fashion-mnist").is_dir():
            return candidate
    pytest.skip(f"the real MNIST files are in none of {[str(c) for c in candidates]}")  # a failure in CI (conftest)


@functools.cache
def load_real(dataset_class: type, train: bool) -> MNIST:
    return dataset_class(real_data_dir(), train=train)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_the_real_files_have_their_published_checksums(name):
    data = (real_data_dir() / name).read_bytes()
    assert (hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()) == PUBLISHED[name]


@pytest.mark.parametrize(("dataset_class", "train"), list(CLASS_COUNTS), ids=lambda v: getattr(v, "__name__", str(v)))
def test_the_real_splits_have_the_published_sizes_and_class_counts(dataset_class, train):
    dataset = load_real(dataset_class, train)
    counts = CLASS_COUNTS[(dataset_class, train)]
    assert len(dataset) == sum(counts) and dataset.data.shape == (sum(counts), 28, 28)
    assert np.bincount(dataset.targets.numpy(), minlength=10).tolist() == counts
    image, label = dataset[0]
    assert image.shape == (1, 28, 28) and 0 <= image.min().item() and image.max().item() <= 1
    assert label == dataset.targets[0].item()


def test_the_first_real_mnist_training_digits_are_the_known_ones():
    assert load_real(MNIST, True).targets[:8].tolist() == [5, 0, 4, 1, 9, 2, 1, 3]
    assert load_real(MNIST, True).data.max() == 255 and load_real(MNIST, True).data.min() == 0


def test_a_real_split_loads_in_shuffled_batches():
    loader = DataLoader(load_real(FashionMNIST, False), batch_size=1000, shuffle=True, seed=0)
    labels = []
    for images, targets in loader:
        assert images.shape[1:] == (1, 28, 28) and images.dtype is tb.float32
        labels += targets.tolist()
    assert len(loader) == 10 and np.bincount(labels).tolist() == [1000] * 10


def test_read_idx_names_the_file_for_more_dims_than_an_array_holds(tmp_path):
    path = tmp_path / "deep.idx"
    path.write_bytes(bytes([0, 0, 0x08, 255]) + b"\0" * 4 * 255)
    with pytest.raises(DataFileError, match=r"deep.idx: the header gives 255 dims; at most 32"):
        tb.data.read_idx(path)


def test_default_collate_of_mixed_dtypes_promotes_like_stack():
    batch = tb.data.default_collate([tb.tensor([1.0, 2.0]), tb.tensor([1, 2])])
    assert batch.dtype is tb.float32


def test_random_split_takes_numpy_int_lengths():
    parts = tb.data.random_split(range(10), np.array([3, 7]), generator=tb.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [3, 7]
