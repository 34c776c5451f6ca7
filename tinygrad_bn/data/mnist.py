"""MNIST and Fashion-MNIST from their original IDX files (torchvision's names and arguments).

train = tb.data.MNIST(train=True)   # looks in <root>/mnist/; root: argument, $TINYGRAD_BN_DATA, cache
image, label = train[0]             # float32 (1, 28, 28) in [0, 1], int
train.data, train.targets           # the whole split: uint8 NumPy (60000, 28, 28), int64 Tensor
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tinygrad_bn.data.dataset import Dataset
from tinygrad_bn.data.files import download_file, md5_hex, resolve_root
from tinygrad_bn.data.idx import DataFileError, parse_idx
from tinygrad_bn.tensor import Tensor, from_numpy


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training or 10,000 test images (``train=False``).

    The four files are read from ``<root>/mnist/`` under their original names, gzipped
    (``train-images-idx3-ubyte.gz``) or not (``train-images-idx3-ubyte``); ``root`` defaults to
    ``$TINYGRAD_BN_DATA``, then to the cache directory (see ``tinygrad_bn.data.files``). Every file
    must have the published md5 (of the .gz, or of the gunzipped file), so a corrupt or truncated
    download is an error naming the file. As in torchvision, ``download`` defaults to False: absent
    files are an error saying where they were looked for; with ``download=True`` they are fetched
    from ``mirrors`` into that folder, verified by md5 before they take their final name.

    Item ``i`` is ``(image, label)``: a float32 tensor (1, 28, 28) of pixels scaled to [0, 1], and
    an int, each passed through ``transform`` / ``target_transform`` when given. The whole split is
    at hand as ``data`` (uint8 NumPy array (N, 28, 28): tinygrad_bn has no uint8 dtype) and
    ``targets`` (int64 tensor (N,)).
    """

    folder: ClassVar[str] = "mnist"
    mirrors: ClassVar[tuple[str, ...]] = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    # file name -> (md5 of the .gz, md5 after gunzip)
    resources: ClassVar[dict[str, tuple[str, str]]] = {
        "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
        "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
        "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
        "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
    }
    classes: ClassVar[list[str]] = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable[[Tensor], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        download: bool = False,
    ) -> None:
        self.root, self._root_source = resolve_root(root)
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        split = "train" if self.train else "t10k"
        images_path = self._file(f"{split}-images-idx3-ubyte", download)
        labels_path = self._file(f"{split}-labels-idx1-ubyte", download)
        self.data = self._read(images_path)
        self._labels = self._read(labels_path).astype(np.int64)
        self._check_shapes(images_path, labels_path)
        self.targets = from_numpy(self._labels)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        index = operator.index(index)
        image: Any = from_numpy(_scaled(self.data[index][None]))
        label: Any = int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def get_batch(self, indices: Sequence[int]) -> Any:
        if self.transform is not None or self.target_transform is not None:
            return super().get_batch(indices)
        rows = np.asarray(indices, dtype=np.int64)
        return [from_numpy(_scaled(self.data[rows][:, None])), from_numpy(self._labels[rows])]

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}(split={split!r}, items={len(self)}, root={str(self.root)!r})"

    @property
    def folder_path(self) -> Path:
        return self.root / self.folder

    def _file(self, name: str, download: bool) -> Path:
        """The path of file ``name`` (gzipped or raw), downloading the .gz when allowed and absent."""
        for candidate in (self.folder_path / f"{name}.gz", self.folder_path / name):
            if candidate.is_file():
                return candidate
        if not download:
            raise FileNotFoundError(
                f"{type(self).__name__}: {name}.gz (or {name}) not found in {self.folder_path} (root from "
                f"{self._root_source}); pass download=True to fetch it from {self.mirrors[0]}, or point root= or "
                f"$TINYGRAD_BN_DATA at a directory that holds {self.folder}/"
            )
        return download_file(f"{name}.gz", self.mirrors, self.folder_path / f"{name}.gz", self.resources[name][0])

    def _read(self, path: Path) -> np.ndarray:
        """The array in ``path``, after checking the file is the published one."""
        data = path.read_bytes()
        name = path.name.removesuffix(".gz")
        got = md5_hex(data)
        if got not in self.resources[name]:
            gz_md5, raw_md5 = self.resources[name]
            raise DataFileError(
                f"{path}: md5 {got}, expected {gz_md5} (gzipped) or {raw_md5} (gunzipped): the file is corrupt, "
                "truncated or not the original; delete it and load again with download=True"
            )
        return parse_idx(data, str(path))

    def _check_shapes(self, images_path: Path, labels_path: Path) -> None:
        if self.data.ndim != 3 or self._labels.ndim != 1 or len(self.data) != len(self._labels):
            raise DataFileError(
                f"{images_path} holds shape {self.data.shape} and {labels_path} shape {self._labels.shape}: "
                "expected images (N, rows, cols) and labels (N,)"
            )
        if len(self._labels) and not 0 <= self._labels.min() <= self._labels.max() < len(self.classes):
            raise DataFileError(f"{labels_path}: labels must be in [0, {len(self.classes)})")


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando's article images), a drop-in for MNIST: same files, sizes and API,
    read from ``<root>/fashion-mnist/``."""

    folder: ClassVar[str] = "fashion-mnist"
    mirrors: ClassVar[tuple[str, ...]] = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    resources: ClassVar[dict[str, tuple[str, str]]] = {
        "train-images-idx3-ubyte": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        "train-labels-idx1-ubyte": ("25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
        "t10k-images-idx3-ubyte": ("bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
        "t10k-labels-idx1-ubyte": ("bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
    }
    classes: ClassVar[list[str]] = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip


def _scaled(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels as float32 in [0, 1]."""
    return pixels.astype(np.float32) / np.float32(255)
