"""The torch.nn module each element-wise layer of the registry is checked against (float64, on
random shapes), given the layer's options: written once for the tests and `benchmarks/cuda_check.py`.
Only tests and benchmarks use torch.nn; the framework never does."""

import torch

REFERENCES = {
    "relu": lambda: torch.nn.ReLU(),
    "tanh": lambda: torch.nn.Tanh(),
    "sigmoid": lambda: torch.nn.Sigmoid(),
    "leaky_relu": lambda slope: torch.nn.LeakyReLU(slope),
    "gelu": lambda: torch.nn.GELU(),
    "softplus": lambda beta: torch.nn.Softplus(beta),
    "identity": lambda: torch.nn.Identity(),
}
