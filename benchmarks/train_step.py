"""Milliseconds per epoch of the report's training loop, several ways, measured side by side.

    python benchmarks/train_step.py [--epochs 20] [--repeats 7] [--dtype float32]

The report's net (2-25-25-25-2, Tanh, MSE summed, SGD lr 0.01, batches of 10, 1000 points) is
trained by (1) minidl with one-hot targets, (2) minidl with class-index targets, (3) torch.nn +
autograd + torch.optim, (4) a bare loop of raw tensor ops with hand-written gradients and no
modules; and (5) minidl's `Trainer`, the engine behind the CLI and the app, for its overhead, with
and without recording its layers' gradient norms.
They are interleaved round by round so that machine noise hits them alike; the median round is
reported with the ratios.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import torch

import minidl

SIZES = [2, 25, 25, 25, 2]
N_POINTS, BATCH, LR = 1000, 10, 0.01


def make_data(dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(N_POINTS, 2, generator=g, dtype=dtype)
    inside = ((x - 0.5) ** 2).sum(1) < 1 / (2 * torch.pi)
    target = torch.stack([~inside, inside], 1).to(dtype)
    return x, target, inside.long()


def initial_weights(dtype):
    g = torch.Generator().manual_seed(1)
    layers = [minidl.Linear(i, o, generator=g, dtype=dtype) for i, o in itertools.pairwise(SIZES)]
    return [(layer.weight.clone(), layer.bias.clone()) for layer in layers]


def minidl_epoch_fn(weights, dtype, labels=None):
    """minidl's modules; with `labels`, the loss gets class indices instead of one-hot rows."""
    layers = []
    for w, b in weights:
        layer = minidl.Linear(w.shape[1], w.shape[0], dtype=dtype)
        layer.load_state_dict({"weight": w, "bias": b})
        layers += [layer, minidl.Tanh()]
    net = minidl.Sequential(*layers[:-1])
    loss = minidl.LossMSE()
    opt = minidl.SGD(net.param(), lr=LR)

    def epoch(x, t, perm):
        targets = t if labels is None else labels
        for i in range(0, N_POINTS, BATCH):
            idx = perm[i : i + BATCH]
            opt.zero_grad()
            loss.forward(net.forward(x[idx]), targets[idx])
            net.backward(loss.backward())
            opt.step()

    return epoch


def trainer_epoch_fn(weights, dtype, record_layers=True):
    """The engine the CLI and the app drive: shuffling, divergence check and bookkeeping included;
    with `record_layers`, the gradient norms of its Linear layers too (the layer-health view's)."""
    from minidl.build import make_trainer
    from minidl.configs import REPORT

    spec = REPORT.replace(dtype=str(dtype).removeprefix("torch."))
    trainer = make_trainer(spec, evaluate_every=1_000_000, record_layers=record_layers)  # no evaluation
    trainer.model.load_state_dict(
        {f"{2 * i}.{k}": v for i, (w, b) in enumerate(weights) for k, v in (("weight", w), ("bias", b))}
    )

    def epoch(x, t, perm):  # the trainer draws its own order over its own 1000 points
        trainer.run_epoch()

    return epoch


def torch_nn_epoch_fn(weights, dtype):
    nn = torch.nn
    layers = []
    for w, b in weights:
        layer = nn.Linear(w.shape[1], w.shape[0], dtype=dtype)
        with torch.no_grad():
            layer.weight.copy_(w)
            layer.bias.copy_(b)
        layers += [layer, nn.Tanh()]
    net = nn.Sequential(*layers[:-1])
    loss = nn.MSELoss(reduction="sum")
    opt = torch.optim.SGD(net.parameters(), lr=LR)

    def epoch(x, t, perm):
        for i in range(0, N_POINTS, BATCH):
            idx = perm[i : i + BATCH]
            opt.zero_grad()
            loss(net(x[idx]), t[idx]).backward()
            opt.step()

    return epoch


def bare_epoch_fn(weights, dtype):
    ws = [w.clone() for w, _ in weights]
    bs = [b.clone() for _, b in weights]
    last = len(ws) - 1

    def epoch(x, t, perm):
        for i in range(0, N_POINTS, BATCH):
            idx = perm[i : i + BATCH]
            h = x[idx]
            acts = [h]
            for k in range(last + 1):
                h = torch.addmm(bs[k], h, ws[k].t())
                if k < last:
                    h = torch.tanh(h)
                acts.append(h)
            diff = h - t[idx]
            (diff * diff).sum()  # the loss value, as a trainer reports it
            g = 2 * diff
            for k in range(last, -1, -1):
                if k < last:
                    y = acts[k + 1]
                    g = g * (1 - y * y)
                gw = g.t().mm(acts[k])
                gb = g.sum(0)
                if k > 0:
                    g = g.mm(ws[k])
                ws[k].sub_(gw, alpha=LR)
                bs[k].sub_(gb, alpha=LR)

    return epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10, help="epochs per timed round (default 10)")
    parser.add_argument("--repeats", type=int, default=9, help="timed rounds (default 9)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: small tensors)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    x, t, labels = make_data(dtype)
    weights = initial_weights(dtype)
    contenders = {
        "minidl": minidl_epoch_fn(weights, dtype),
        "minidl, indices": minidl_epoch_fn(weights, dtype, labels),
        "minidl Trainer": trainer_epoch_fn(weights, dtype),
        "Trainer, no layer records": trainer_epoch_fn(weights, dtype, record_layers=False),
        "torch.nn+autograd": torch_nn_epoch_fn(weights, dtype),
        "bare tensor loop": bare_epoch_fn(weights, dtype),
    }
    perms = [torch.randperm(N_POINTS, generator=torch.Generator().manual_seed(e)) for e in range(args.epochs)]
    for epoch in contenders.values():  # warm-up
        epoch(x, t, perms[0])
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, epoch in contenders.items():
            start = time.perf_counter()
            for perm in perms:
                epoch(x, t, perm)
            times[name].append((time.perf_counter() - start) / args.epochs * 1e3)
    ms = {name: statistics.median(v) for name, v in times.items()}
    print(
        f"torch {torch.__version__}, {args.dtype}, {torch.get_num_threads()} thread(s), "
        f"{N_POINTS // BATCH} steps/epoch, median of {args.repeats} rounds of {args.epochs} epochs"
    )
    for name, value in ms.items():
        print(f"  {name:<26} {value:8.2f} ms/epoch")
    print(f"  torch.nn+autograd / minidl = {ms['torch.nn+autograd'] / ms['minidl']:.2f}x  (target >= 2)")
    print(f"  minidl / bare tensor loop  = {ms['minidl'] / ms['bare tensor loop']:.2f}x  (target <= 1.10)")
    print(
        f"  minidl, indices / bare     = {ms['minidl, indices'] / ms['bare tensor loop']:.2f}x  "
        "(target <= 1.10: class-index targets)"
    )
    print(f"  torch.nn+autograd / bare   = {ms['torch.nn+autograd'] / ms['bare tensor loop']:.2f}x")
    print(
        f"  minidl Trainer / bare      = {ms['minidl Trainer'] / ms['bare tensor loop']:.2f}x  (the engine's overhead)"
    )
    records = ms["minidl Trainer"] / ms["Trainer, no layer records"]
    print(f"  Trainer / no layer records = {records:.3f}x  (target <= 1.05: recording gradient norms)")


if __name__ == "__main__":
    main()
