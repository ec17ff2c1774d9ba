"""The torch.nn module each element-wise layer of the registry is checked against (float64, on
random shapes), given the layer's options: the registry names it (`LayerEntry.torch_name`).
Only tests and benchmarks use torch.nn; the framework never does."""

import torch

from minidl.registry import LAYERS, LINEAR


def reference(name: str):
    """`options -> the torch.nn module` for layer type `name`, its options passed in the registry's order."""
    entry = LAYERS[name]
    module = getattr(torch.nn, entry.torch_name)
    return lambda **options: module(*(options[p.name] for p in entry.params))


REFERENCES = {name: reference(name) for name, entry in LAYERS.items() if name != LINEAR and entry.torch_name}
