"""``Sequential`` and ``ModuleList``: modules that hold other modules, in order."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from tinygrad_bn.nn.module import Module


class _ModuleSequence(Module):
    """List behaviour shared by Sequential and ModuleList: integer indexing (negative too),
    slicing, assignment, deletion, append/extend/insert/pop. Removing or inserting renumbers
    the entries "0", "1", ..., as in PyTorch."""

    def _position(self, index: int) -> int:
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, not {type(index).__name__}")
        length = len(self._modules)
        if not -length <= index < length:
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for {length} modules")
        return index % length

    def _renumber(self, modules: list[Module]) -> None:
        self._modules.clear()
        for position, module in enumerate(modules):
            self.add_module(str(position), module)

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[self._position(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, list(self._modules)[self._position(index)], module)

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[self._position(index)]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> _ModuleSequence:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> _ModuleSequence:
        for module in modules:
            self.append(module)
        return self

    def __iadd__(self, modules: Iterable[Module]) -> _ModuleSequence:
        return self.extend(modules)

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        module = self[index]
        del self[index]
        return module


class Sequential(_ModuleSequence):
    """Modules applied in order: ``Sequential(a, b)(x) = b(a(x))``. Also takes an OrderedDict
    of named modules."""

    def __init__(self, *modules: Module | OrderedDict[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def forward(self, input: Any) -> Any:
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters are registered (a plain list would hide them)."""

    def __init__(self, modules: Iterable[Module] | OrderedDict[str, Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules.values() if isinstance(modules, OrderedDict) else modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList is a container: call the modules it holds")

    def __repr__(self) -> str:
        """Runs of identical entries print once, as PyTorch does: ``(0-1): 2 x ReLU()``."""
        if not self._modules:
            return "ModuleList()"
        lines, texts = [], [repr(module) for module in self._modules.values()]
        start = 0
        for end in range(1, len(texts) + 1):
            if end == len(texts) or texts[end] != texts[start]:
                text = texts[start].replace("\n", "\n  ")
                label = f"({start}): {text}" if end - start == 1 else f"({start}-{end - 1}): {end - start} x {text}"
                lines.append(label)
                start = end
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"
