"""The `minidl` command: `minidl train` and `minidl reproduce` (also `python -m minidl`).

Every flag of `minidl train` that sets a spec field is derived from `minidl.spec.FIELDS` and the
registries: its choices, range, default and help come from there.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from tqdm import tqdm

from minidl.build import make_trainer
from minidl.configs import CONFIGS, REPORT
from minidl.params import Param, Registry, SpecError
from minidl.registry import DATASETS, INITS, LAYERS, LOSSES, OPTIMIZERS
from minidl.spec import FIELDS, OPTIMIZER_OPTIONS, Spec
from minidl.storage.checkpoint import read_spec, save_model
from minidl.storage.files import FileProblem, check_writable, write_text_atomic
from minidl.storage.history import write_history
from minidl.train import DEFAULT_THREADS

REPORT_FIGURES = {"train": 97.3, "test": 96.2}  # the report, mean of 50 runs
REGISTRIES: dict[str, Registry] = {"dataset": DATASETS, "init": INITS, "loss": LOSSES, "optimizer": OPTIMIZERS}
COUNTS = {"runs": Param("runs", int, 50, low=1, high=10_000), "threads": Param("threads", int, DEFAULT_THREADS, low=1)}


class _LogBar(tqdm):
    """tqdm into a file or a pipe: a line of its own (not a redraw) about every tenth of the way,
    the first after the first step and always the last, so that logs stay short."""

    monitor_interval = 0  # no thread that redraws a slow bar: a log gets only the lines above

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        if self.n == 0 or msg == "":  # nothing done yet, or tqdm clearing a bar it would redraw
            return False
        self.fp.write(self.__str__() + "\n")
        self.fp.flush()
        return True

    def update(self, n: float = 1) -> bool | None:
        shown = super().update(n)
        if self.disable:
            return shown
        first, last = self.last_print_n == 0, self.total is not None and self.n >= self.total
        if self.n > self.last_print_n and (first or last):
            self.refresh()
            self.last_print_n = self.n
        return shown


def progress_bar(total: int, label: str, enabled: bool) -> tqdm:
    """A progress bar on stderr: redrawn in place (at most 10 times a second) on a terminal,
    a line every tenth of the way into a file or a pipe; silent when not `enabled`."""
    stream = sys.stderr
    if stream.isatty():
        return tqdm(total=total, desc=label, unit="epoch", file=stream, disable=not enabled, mininterval=0.1)
    return _LogBar(
        total=total,
        desc=label,
        unit="epoch",
        file=stream,
        disable=not enabled,
        leave=False,
        mininterval=0,
        miniters=max(1, math.ceil(total / 10)),
        ncols=100,
        ascii=True,
    )


def typed(param: Param):
    """An argparse `type` that parses and checks with `param`, in the spec's own words."""

    def parse(text: str):
        try:
            return param.parse(text)
        except SpecError as error:
            raise argparse.ArgumentTypeError(str(error).removeprefix(f"{param.name}: ")) from None

    parse.__name__ = param.name  # argparse names the type in some messages
    return parse


def layer_list(text: str) -> list[dict]:
    """`linear:25,tanh,leaky_relu:0.2` -> spec layers (the value after `:` is the layer's first option)."""
    layers = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, arg = part.partition(":")
        if kind not in LAYERS:
            raise argparse.ArgumentTypeError(f"unknown layer {kind!r} (choose from {', '.join(LAYERS.names)})")
        layer: dict = {"type": kind}
        if arg:
            params = LAYERS[kind].params
            if not params:
                raise argparse.ArgumentTypeError(f"a {kind} layer takes no value, got {part!r}")
            try:
                layer[params[0].name] = params[0].parse(arg)
            except SpecError as error:
                raise argparse.ArgumentTypeError(f"in {part!r}: {error}") from None
        layers.append(layer)
    return layers


def layer_help() -> str:
    kinds = [name + "".join(f":{p.name.upper()}" for p in entry.params[:1]) for name, entry in LAYERS.items()]
    return "hidden layers, e.g. linear:25,tanh,linear:25,tanh; types: " + ", ".join(kinds)


def choice_help(param: Param, registry: Registry | None) -> str:
    if registry is None:
        return param.doc
    return f"{param.doc}: " + "; ".join(f"{name}: {entry.doc}" for name, entry in registry.items())


def add_field_flag(parser: argparse.ArgumentParser, name: str, param: Param, help_text: str | None = None) -> None:
    flag = "--" + name.replace("_", "-")
    if param.kind is bool:
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text or param.doc)
    elif param.choices is not None:
        parser.add_argument(flag, choices=param.choices, help=help_text or choice_help(param, REGISTRIES.get(name)))
    else:
        metavar = name.upper() if param.size is None else ",".join(["X"] * param.size)
        parser.add_argument(
            flag, type=typed(param), metavar=metavar, help=help_text or f"{param.doc} ({param.range_text()})"
        )


def device(text: str) -> str:
    """A torch device that exists here (`cpu`, `cuda`, `cuda:1`, `mps`)."""
    import torch

    try:
        torch.empty(0, device=text)
    except (RuntimeError, ValueError, AssertionError) as error:
        reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        raise argparse.ArgumentTypeError(f"no device {text!r} here ({reason})") from None
    return text


def add_output_flags(parser: argparse.ArgumentParser, json_help: str) -> None:
    parser.add_argument("--json", action="store_true", help=json_help)
    parser.add_argument("--device", type=device, help="where to train: cpu (default), cuda, mps, ...")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    threads = COUNTS["threads"]
    parser.add_argument(
        "--threads",
        type=typed(threads),
        default=threads.default,
        help=f"torch CPU threads (default {threads.default}: fastest for these small networks)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minidl", description="Train minidl networks; reproduce the report.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="train one network (flags override --spec)",
        description="Train one network. The spec starts from --spec, else from --config (default: report); "
        "every flag below overrides one of its fields.",
    )
    train.add_argument("--spec", type=Path, help="experiment spec (JSON); flags below override its fields")
    train.add_argument("--config", choices=list(CONFIGS), help="start from a named configuration")
    spec_flags = train.add_argument_group("spec fields (each overrides --spec and --config)")
    for name, param in FIELDS.items():
        if name == "layers":
            spec_flags.add_argument("--layers", type=layer_list, help=layer_help())
        else:
            add_field_flag(spec_flags, name, param)
    options = train.add_argument_group("optimizer options (the optimizer must have them)")
    for name, param in OPTIMIZER_OPTIONS.items():
        owners = [entry.name for entry in OPTIMIZERS.values() if entry.param(name)]
        help_text = f"{param.doc} ({param.range_text()}; {', '.join(owners)})"
        add_field_flag(options, name, param, help_text)
    outputs = train.add_argument_group("outputs (checked before training starts)")
    outputs.add_argument("--save", type=Path, metavar="MODEL.pt", help="save the trained model with its spec")
    outputs.add_argument("--history", type=Path, metavar="HISTORY.csv", help="write per-epoch metrics as CSV")
    outputs.add_argument("--save-spec", type=Path, metavar="SPEC.json", help="write the resolved spec as JSON")
    add_output_flags(train, "print the final metrics as one JSON object")

    repro = sub.add_parser("reproduce", help="the report's experiment over many runs, trained side by side")
    repro.add_argument("--runs", type=typed(COUNTS["runs"]), default=50, help="independent runs (default 50)")
    repro.add_argument(
        "--config",
        choices=list(CONFIGS),
        default="report",
        help="original: the report's code's protocol; report (default): ours; best: our best",
    )
    repro.add_argument("--epochs", type=typed(FIELDS["epochs"]), help="override the configuration's epochs")
    repro.add_argument("--seed", type=typed(FIELDS["seed"]), help="override the configuration's seed")
    add_output_flags(repro, "print the results as one JSON object")
    parser.set_defaults(subparsers={"train": train, "reproduce": repro})
    return parser


def spec_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Spec:
    try:
        spec = CONFIGS[args.config] if args.config else REPORT
        if args.spec is not None:
            spec = read_spec(args.spec)
        changes = {name: getattr(args, name) for name in [*FIELDS, *OPTIMIZER_OPTIONS]}
        return spec.replace(**{name: value for name, value in changes.items() if value is not None})
    except FileProblem as error:
        parser.error(f"--spec: {error}")
    except SpecError as error:
        parser.error(f"invalid spec: {error}")
    raise AssertionError("unreachable")


def check_outputs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Every output path, before any training: a run must not be lost to a typo in a folder name."""
    for flag, what in (("save", "model"), ("history", "history"), ("save_spec", "spec")):
        path = getattr(args, flag)
        if path is not None:
            try:
                check_writable(path, what)
            except FileProblem as error:
                parser.error(f"--{flag.replace('_', '-')}: {error}")


def command_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    spec = spec_from_args(args, parser)
    check_outputs(args, parser)
    if args.save_spec:
        write_text_atomic(args.save_spec, spec.to_json() + "\n", "spec")
    trainer = make_trainer(spec, threads=args.threads, device=args.device)
    out = sys.stdout
    if not args.json:
        o = spec.optimizer
        print(
            f"minidl train: {spec.describe()}; {spec.loss}; {o.type} lr {o.lr:g}; "
            f"batch {spec.batch_size}; {spec.epochs} epochs; {spec.dataset.name} data",
            file=out,
            flush=True,
        )
    bar = progress_bar(spec.epochs, "train", enabled=not args.quiet)

    def on_epoch(record) -> None:
        bar.set_postfix_str(f"loss {record.train_loss:.4f} acc {100 * record.train_accuracy:.1f}%", refresh=False)
        bar.update(record.epoch - bar.n)

    start = time.perf_counter()
    interrupted = False
    try:
        trainer.run(spec.epochs, on_epoch=on_epoch)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    elapsed = time.perf_counter() - start
    saved = []
    try:
        if args.history:
            write_history(args.history, trainer)
            saved.append(f"history to {args.history}")
        if args.save and not trainer.diverged:
            save_model(args.save, spec, trainer.model)
            saved.append(f"model to {args.save}")
    except FileProblem as error:
        print(f"minidl train: {error}", file=sys.stderr)
        return 1
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
            print(trainer.message + " (--lr sets it)", file=out)
        if record:
            print(
                f"epoch {record.epoch}: train loss {record.train_loss:.4f}, "
                f"train accuracy {100 * record.train_accuracy:.2f}%, "
                f"test loss {record.test_loss:.4f}, test accuracy {100 * record.test_accuracy:.2f}%  "
                f"({tqdm.format_interval(elapsed)})",
                file=out,
            )
        for what in saved:
            print(f"saved {what}", file=out)
    if interrupted:
        return 130
    return 1 if trainer.diverged else 0


def command_reproduce(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    spec = CONFIGS[args.config]
    try:
        spec = spec.replace(**{k: getattr(args, k) for k in ("epochs", "seed") if getattr(args, k) is not None})
    except SpecError as error:
        parser.error(str(error))
    start = time.perf_counter()
    trainer = make_trainer(spec, models=args.runs, evaluate_every=0, threads=args.threads, device=args.device)
    bar = progress_bar(spec.epochs, "reproduce", enabled=not args.quiet)
    interrupted = False
    try:
        for _ in range(spec.epochs):
            if not trainer.run_epoch():
                break
            bar.update(trainer.epoch - bar.n)
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
    optimizer = f"{OPTIMIZERS[o.type].display} lr {o.lr:g}" + (
        f", momentum {o.momentum:g}" if o.get("momentum") else ""
    )
    if spec.lr_decay != 1.0:
        optimizer += f" x {spec.lr_decay:g} per epoch"
    order = "shuffled" if spec.shuffle else "in a fixed order"
    done = r["epochs_completed"]
    lines = [
        f"minidl reproduce --config {args.config}: {r['runs']} runs trained side by side "
        f"({done} of {r['epochs']} epochs" + (", interrupted)" if r["status"] == "interrupted" else ")"),
        f"  network {spec.describe()}, {INITS[spec.init].display} init; loss {spec.loss} (summed); {optimizer}; "
        f"batches of {spec.batch_size}, {order}",
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
