"""`Sequential`: modules chained in order, editable so a GUI can reshape a network."""

from __future__ import annotations

from collections.abc import Iterator

from torch import Tensor

from minidl.nn.module import Module

_WRAPPED = (ValueError, TypeError, RuntimeError)


def _in_layer(error: Exception, index: int, module: Module) -> Exception:
    """The same kind of error, its message prefixed with where in the stack it happened."""
    message = f"layer {index} ({type(module).__name__}): {error}"
    try:
        return type(error)(message)
    except Exception:  # an exception class with an unusual constructor
        return RuntimeError(message)


def _caches(module: Module) -> Iterator[tuple[Module, dict]]:
    """Every cache in `module` and below it, as (module, {name: value})."""
    yield module, {name: getattr(module, name) for name in module._cache_names}
    for child in module.children():
        yield from _caches(child)


class Sequential(Module):
    """Runs modules in order on `forward`, in reverse on `backward`.

    Shapes: whatever the first module takes, whatever the last one returns.
    Errors raised inside are re-raised with the index of the layer they came from.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        self._modules: list[Module] = []
        for module in modules:
            self.append(module)

    def forward(self, x: Tensor) -> Tensor:
        i = 0
        try:
            for i, module in enumerate(self._modules):  # noqa: B007 (i names the failing layer)
                x = module.forward(x)
        except _WRAPPED as error:
            raise _in_layer(error, i, self._modules[i]) from error
        return x

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        g = grad_wrt_output
        modules = self._modules
        i = len(modules) - 1
        try:
            while i >= 0:
                g = modules[i].backward(g)
                i -= 1
        except _WRAPPED as error:
            raise _in_layer(error, i, modules[i]) from error
        return g

    def layer_outputs(self, x: Tensor) -> list[Tensor]:
        """The output of every module in order (the last is `forward(x)`), for looking inside.

        The caches a following `backward` needs (of the last `forward`) are left as they were.
        """
        kept = list(_caches(self))
        outputs = []
        i = 0
        try:
            for i, module in enumerate(self._modules):  # noqa: B007 (i names the failing layer)
                x = module.forward(x)
                outputs.append(x)
        except _WRAPPED as error:
            raise _in_layer(error, i, self._modules[i]) from error
        finally:
            for module, cache in kept:
                for name, value in cache.items():
                    setattr(module, name, value)
        return outputs

    def named_param(self):
        return [(f"{i}.{name}", p, g) for i, module in enumerate(self._modules) for name, p, g in module.named_param()]

    def children(self) -> Iterator[Module]:
        return iter(self._modules)

    def _forget_cache(self) -> None:
        for module in self._modules:
            module._forget_cache()

    # ---- list-like editing -----------------------------------------------------------------------
    @staticmethod
    def _checked(module: object) -> Module:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential holds minidl Modules, got {type(module).__name__}")
        return module

    def append(self, module: Module) -> Sequential:
        self._modules.append(self._checked(module))
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        self._modules.insert(index, self._checked(module))
        return self

    def pop(self, index: int = -1) -> Module:
        if not self._modules:
            raise IndexError("pop from an empty Sequential")
        return self._modules.pop(index)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules)

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return Sequential(*self._modules[index])
        return self._modules[index]

    def __setitem__(self, index: int, module: Module) -> None:
        self._modules[index] = self._checked(module)

    def __repr__(self) -> str:
        if not self._modules:
            return "Sequential()"
        lines = [f"  ({i}): " + repr(m).replace("\n", "\n  ") for i, m in enumerate(self._modules)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"
