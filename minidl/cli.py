"""The `minidl` command: `minidl train` and `minidl reproduce` (also `python -m minidl`)."""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import torch

from minidl.checkpoint import save_model
from minidl.data import DATASETS
from minidl.linear import INITS
from minidl.progress import ProgressBar, format_seconds
from minidl.spec import BEST, LAYER_TYPES, LOSSES, OPTIMIZERS, REPORT, Spec, SpecError, make_trainer
from minidl.train import Trainer

REPORT_FIGURES = {"train": 97.3, "test": 96.2}  # the report, mean of 50 runs
CONFIGS = {"report": REPORT, "best": BEST}


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def layer_list(text: str) -> list[dict]:
    """`linear:25,tanh,linear:25,relu` -> spec layers."""
    layers = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, arg = part.partition(":")
        if kind not in LAYER_TYPES:
            raise argparse.ArgumentTypeError(f"unknown layer {kind!r} (choose from {', '.join(LAYER_TYPES)})")
        layer: dict = {"type": kind}
        if arg:
            key = "units" if kind == "linear" else "slope"
            try:
                layer[key] = int(arg) if key == "units" else float(arg)
            except ValueError:
                raise argparse.ArgumentTypeError(f"bad {key} in {part!r}") from None
        layers.append(layer)
    return layers


def add_output_flags(parser: argparse.ArgumentParser, json_help: str, threads: int | None) -> None:
    parser.add_argument("--json", action="store_true", help=json_help)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    default = f" (default {threads})" if threads else ""
    parser.add_argument("--threads", type=positive_int, default=threads, help="torch CPU threads" + default)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minidl", description="Train minidl networks; reproduce the report.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train one network (flags override --spec)")
    train.add_argument("--spec", type=Path, help="experiment spec (JSON); flags below override its fields")
    train.add_argument("--config", choices=sorted(CONFIGS), help="start from a named configuration")
    train.add_argument("--dataset", choices=DATASETS)
    train.add_argument("--noise", type=float, help="fraction of labels flipped, 0 to 0.5")
    train.add_argument("--n-train", type=positive_int)
    train.add_argument("--n-test", type=positive_int)
    train.add_argument("--layers", type=layer_list, help="hidden layers, e.g. linear:25,tanh,linear:25,tanh")
    train.add_argument("--init", choices=INITS)
    train.add_argument("--loss", choices=sorted(LOSSES))
    train.add_argument("--optimizer", choices=OPTIMIZERS)
    train.add_argument("--lr", type=positive_float, help="learning rate")
    train.add_argument("--momentum", type=float)
    train.add_argument("--weight-decay", type=float)
    train.add_argument("--lr-decay", type=positive_float, help="multiply the lr by this after every epoch (<= 1)")
    train.add_argument("--batch-size", type=positive_int)
    train.add_argument("--epochs", type=positive_int)
    train.add_argument("--seed", type=int)
    train.add_argument("--dtype", choices=["float32", "float64"])
    train.add_argument("--save", type=Path, metavar="MODEL.pt", help="save the trained model with its spec")
    train.add_argument("--history", type=Path, metavar="HISTORY.csv", help="write per-epoch metrics as CSV")
    train.add_argument("--save-spec", type=Path, metavar="SPEC.json", help="write the resolved spec as JSON")
    add_output_flags(train, "print the final metrics as one JSON object", threads=None)

    repro = sub.add_parser("reproduce", help="the report's experiment over many runs, trained side by side")
    repro.add_argument("--runs", type=positive_int, default=50, help="independent runs (default 50)")
    repro.add_argument("--config", choices=sorted(CONFIGS), default="report", help="report (default) or best")
    repro.add_argument("--epochs", type=positive_int, help="override the configuration's epochs")
    repro.add_argument("--seed", type=int, help="override the configuration's seed")
    add_output_flags(repro, "print the results as one JSON object", threads=1)
    parser.set_defaults(subparsers={"train": train, "reproduce": repro})
    return parser


def spec_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Spec:
    try:
        spec = CONFIGS[args.config] if args.config else REPORT
        if args.spec is not None:
            spec = Spec.from_json(args.spec.read_text())
        raw = spec.to_dict()
        dataset = {"dataset": "name", "noise": "noise", "n_train": "n_train", "n_test": "n_test"}
        for flag, key in dataset.items():
            if getattr(args, flag) is not None:
                raw["dataset"][key] = getattr(args, flag)
        for flag in ("layers", "init", "loss", "batch_size", "epochs", "lr_decay", "seed", "dtype"):
            if getattr(args, flag) is not None:
                raw[flag] = getattr(args, flag)
        if args.optimizer is not None and args.optimizer != raw["optimizer"]["type"]:
            raw["optimizer"] = {"type": args.optimizer, "lr": raw["optimizer"]["lr"]}
        for flag in ("lr", "momentum", "weight_decay"):
            if getattr(args, flag) is not None:
                raw["optimizer"][flag] = getattr(args, flag)
        return Spec.from_dict(raw)
    except OSError as error:
        parser.error(f"cannot read --spec: {error}")
    except SpecError as error:
        parser.error(f"invalid spec: {error}")
    raise AssertionError("unreachable")


def command_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    spec = spec_from_args(args, parser)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.save_spec:
        args.save_spec.write_text(spec.to_json() + "\n")
    trainer = make_trainer(spec)
    out = sys.stdout
    if not args.json:
        print(
            f"minidl train: {spec.describe()}; {spec.loss}; {spec.optimizer.type} lr {spec.optimizer.lr:g}; "
            f"batch {spec.batch_size}; {spec.epochs} epochs; {spec.dataset.name} data",
            file=out,
        )
    bar = ProgressBar(spec.epochs, "train ", enabled=not args.quiet)

    def on_epoch(record) -> None:
        bar.update(record.epoch, f"loss {record.train_loss:.4f} acc {100 * record.train_accuracy:.1f}%")

    start = time.perf_counter()
    interrupted = False
    try:
        trainer.run(spec.epochs, on_epoch=on_epoch)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    elapsed = time.perf_counter() - start
    if args.history:
        write_history(args.history, trainer)
    if args.save and not trainer.diverged:
        save_model(args.save, spec, trainer.model)
    record = trainer.last_record
    result = {
        "epochs": trainer.epoch,
        "status": "interrupted" if interrupted else trainer.status,
        "seconds": round(elapsed, 3),
        **({k: v for k, v in record.as_dict().items() if k != "epoch"} if record else {}),
    }
    if args.json:
        print(json.dumps(result), file=out)
    else:
        if interrupted:
            print(f"interrupted after {trainer.epoch} complete epochs", file=out)
        if trainer.diverged:
            print(trainer.message, file=out)
        if record:
            print(
                f"epoch {record.epoch}: train loss {record.train_loss:.4f}, "
                f"train accuracy {100 * record.train_accuracy:.2f}%, "
                f"test loss {record.test_loss:.4f}, test accuracy {100 * record.test_accuracy:.2f}%  "
                f"({format_seconds(elapsed)})",
                file=out,
            )
        if args.save and not trainer.diverged:
            print(f"saved model to {args.save}", file=out)
    if interrupted:
        return 130
    return 1 if trainer.diverged else 0


def write_history(path: Path, trainer: Trainer) -> None:
    fields = ["epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for record in trainer.history:
            writer.writerow(record.as_dict())


def command_reproduce(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    spec = CONFIGS[args.config]
    try:
        spec = spec.with_changes(**{k: getattr(args, k) for k in ("epochs", "seed") if getattr(args, k) is not None})
    except SpecError as error:
        parser.error(str(error))
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    trainer = make_trainer(spec, models=args.runs, evaluate_every=0)
    bar = ProgressBar(spec.epochs, "reproduce ", enabled=not args.quiet)
    interrupted = False
    try:
        for _ in range(spec.epochs):
            if not trainer.run_epoch():
                break
            bar.update(trainer.epoch)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    metrics = trainer.evaluate()
    elapsed = time.perf_counter() - start
    result = {
        "config": args.config,
        "runs": args.runs,
        "epochs_completed": trainer.epoch,
        "epochs": spec.epochs,
        "steps": trainer.steps,
        "status": "interrupted" if interrupted else trainer.status,
        "seconds": round(elapsed, 2),
        "spec": spec.to_dict(),
        "train_accuracy_mean": 100 * metrics["train_accuracy"].mean().item(),
        "train_accuracy_std": 100 * metrics["train_accuracy"].std().item() if args.runs > 1 else 0.0,
        "test_accuracy_mean": 100 * metrics["test_accuracy"].mean().item(),
        "test_accuracy_std": 100 * metrics["test_accuracy"].std().item() if args.runs > 1 else 0.0,
        "report": REPORT_FIGURES,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(reproduce_table(spec, args, result))
        if trainer.diverged:
            print(trainer.message)
    if interrupted:
        return 130
    return 1 if trainer.diverged else 0


def reproduce_table(spec: Spec, args: argparse.Namespace, r: dict) -> str:
    o = spec.optimizer
    optimizer = f"SGD lr {o.lr:g}" + (f", momentum {o.momentum:g}" if o.momentum else "")
    if o.type == "adam":
        optimizer = f"Adam lr {o.lr:g}"
    if spec.lr_decay != 1.0:
        optimizer += f" x {spec.lr_decay:g} per epoch"
    done = r["epochs_completed"]
    lines = [
        f"minidl reproduce --config {args.config}: {r['runs']} runs trained side by side "
        f"({done} of {r['epochs']} epochs" + (", interrupted)" if r["status"] == "interrupted" else ")"),
        f"  network {spec.describe()}, {spec.init} init; loss {spec.loss} (summed); {optimizer}; "
        f"batch {spec.batch_size}",
        f"  data {spec.dataset.n_train} train / {spec.dataset.n_test} test {spec.dataset.name} points, "
        "drawn anew for every run",
        "",
        f"  {'':<10}{'train accuracy':>20}{'test accuracy':>20}",
        f"  {'report':<10}{REPORT_FIGURES['train']:>19.1f}%{REPORT_FIGURES['test']:>19.1f}%",
        f"  {'minidl':<10}{r['train_accuracy_mean']:>12.2f}% ± {r['train_accuracy_std']:.2f}"
        f"{r['test_accuracy_mean']:>12.2f}% ± {r['test_accuracy_std']:.2f}",
        "",
        f"  wall time {r['seconds']:.1f} s (data, {r['runs']} x {r['steps']} steps, evaluation)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command_parser = args.subparsers[args.command]
    try:
        if args.command == "train":
            return command_train(args, command_parser)
        return command_reproduce(args, command_parser)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
