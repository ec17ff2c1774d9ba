"""minidl on a CUDA device: every backward pass against autograd there, and training CPU vs CUDA.

    python benchmarks/cuda_check.py

Needs a CUDA device (exits 2 without one). Checks, in float64 on the GPU: Linear, every
element-wise layer of the registry and both losses against torch.autograd on random shapes; a
Trainer's 30 epochs on CUDA against the same on the CPU (same seed: same weights at the end, up
to rounding); and `minidl reproduce` on both, side by side in time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

import minidl
from minidl.build import make_trainer
from minidl.configs import REPORT
from minidl.registry import LAYERS, LINEAR
from minidl.spec import Layer

F64 = torch.float64


def close(ours: torch.Tensor, reference: torch.Tensor) -> bool:
    return ours.is_cuda and torch.allclose(ours, reference, rtol=1e-9, atol=1e-11)


def gradients(device: str, trials: int = 20) -> list[str]:
    failures = []
    g = torch.Generator().manual_seed(0)
    for trial in range(trials):
        n, i, o = (int(v) for v in torch.randint(1, 12, (3,), generator=g))
        layer = minidl.Linear(i, o, generator=g, dtype=F64).to(device)
        x, up = torch.randn(n, i, dtype=F64).to(device), torch.randn(n, o, dtype=F64).to(device)
        w, b = layer.weight.clone().requires_grad_(), layer.bias.clone().requires_grad_()
        xr = x.clone().requires_grad_()
        (xr @ w.t() + b).backward(up)
        out = layer(x)
        if not (close(out, (x @ w.t() + b).detach()) and close(layer.backward(up), xr.grad)):
            failures.append(f"Linear({i}, {o}) trial {trial}")
        if not (close(layer.grad_weight, w.grad) and close(layer.grad_bias, b.grad)):
            failures.append(f"Linear({i}, {o}) parameter gradients, trial {trial}")
        for name, entry in LAYERS.items():
            if name == LINEAR:
                continue
            options = {p.name: 0.3 if p.name == "slope" else 2.0 for p in entry.params}
            module = Layer.make(name, **options).build()
            xa = (torch.randn(n, o, dtype=F64) * 4).to(device)
            xr = xa.clone().requires_grad_()
            getattr(torch.nn, entry.torch_name)(*options.values())(xr).backward(up)  # the registry's reference
            module(xa)
            if not close(module.backward(up), xr.grad):
                failures.append(f"{name} trial {trial}")
        for loss_cls, reference in ((minidl.LossMSE, "mse"), (minidl.LossCrossEntropy, "ce")):
            prediction = torch.randn(n, 3, dtype=F64).to(device)
            target = torch.randint(0, 3, (n,)).to(device)
            pr = prediction.clone().requires_grad_()
            if reference == "mse":
                ((pr - torch.eye(3, dtype=F64, device=device)[target]) ** 2).sum().backward()
            else:
                torch.nn.functional.cross_entropy(pr, target, reduction="sum").backward()
            loss = loss_cls()
            loss(prediction, target)
            if not close(loss.backward(), pr.grad):
                failures.append(f"{loss_cls.__name__} trial {trial}")
    return failures


def training(device: str) -> dict:
    spec = REPORT.replace(dtype="float64", epochs=30, n_train=300, n_test=300)
    runs = {}
    for where in ("cpu", device):
        trainer = make_trainer(spec, device=where)
        start = time.perf_counter()
        trainer.run(spec.epochs)
        runs[where] = (trainer, time.perf_counter() - start)
    cpu, gpu = runs["cpu"][0], runs[device][0]
    biggest = max((p.cpu() - q).abs().max().item() for (p, _), (q, _) in zip(gpu.model.param(), cpu.model.param()))
    return {
        "cpu test accuracy": cpu.last_record.test_accuracy,
        f"{device} test accuracy": gpu.last_record.test_accuracy,
        "largest weight difference cpu vs cuda (float64, 30 epochs)": biggest,
        "seconds cpu / cuda": [round(runs["cpu"][1], 2), round(runs[device][1], 2)],
        "parameters on the device": all(p.is_cuda for p, _ in gpu.model.param()),
    }


def reproduce(device: str) -> dict:
    out = {}
    for where in ("cpu", device):
        command = [
            sys.executable,
            "-m",
            "minidl",
            "reproduce",
            "--epochs",
            "100",
            "--json",
            "--quiet",
            "--device",
            where,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        data = json.loads(result.stdout) if result.returncode == 0 else {"error": result.stderr[-300:]}
        out[where] = {k: data.get(k) for k in ("seconds", "train_accuracy_mean", "test_accuracy_mean", "error")}
    return out


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device here")
        return 2
    device = "cuda"
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    failures = gradients(device)
    print(f"gradients on {device} against autograd (float64): {failures or 'all match'}")
    print(json.dumps(training(device), indent=2))
    print(json.dumps(reproduce(device), indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
