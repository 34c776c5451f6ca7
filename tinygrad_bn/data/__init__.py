"""Datasets and batching (``torch.utils.data`` and torchvision's MNIST, by their names).

from tinygrad_bn.data import DataLoader, MNIST, TensorDataset, make_moons
x, y = make_moons(200, noise=0.1, seed=0)
for xb, yb in DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0):
    ...
"""

from tinygrad_bn.data.collate import default_collate
from tinygrad_bn.data.dataset import Dataset, Subset, TensorDataset, random_split
from tinygrad_bn.data.files import DATA_ENV, cache_dir, data_root
from tinygrad_bn.data.idx import DataFileError, parse_idx, read_idx
from tinygrad_bn.data.loader import DataLoader
from tinygrad_bn.data.mnist import MNIST, FashionMNIST
from tinygrad_bn.data.toys import make_circles, make_moons, make_spirals, make_xor, placement_table

__all__ = [
    "DATA_ENV",
    "MNIST",
    "DataFileError",
    "DataLoader",
    "Dataset",
    "FashionMNIST",
    "Subset",
    "TensorDataset",
    "cache_dir",
    "data_root",
    "default_collate",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "parse_idx",
    "placement_table",
    "random_split",
    "read_idx",
]
