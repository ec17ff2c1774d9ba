"""A trainer's per-epoch records as a CSV file (`minidl train --history`, the app's export)."""

from __future__ import annotations

import csv
import io
import os

from minidl.storage.files import write_text_atomic
from minidl.train import Trainer, health_kind

COLUMNS = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy")


def write_history(path: str | os.PathLike, trainer: Trainer) -> None:
    """Per-epoch metrics as CSV, with each Linear layer's gradient norm and each activation's health
    in columns named by the layer's index (`grad_norm_L0`, `saturated_L1`, `dead_L3`), atomically."""
    model = trainer.model
    layers = [f"grad_norm_L{i}" for i in trainer.linear_layers]
    layers += [f"{health_kind(model[i])}_L{i}" for i in trainer.activation_layers]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([*COLUMNS, *layers])
    for r in trainer.history:
        figures = [*r.grad_norms, *r.health] if len(r.grad_norms) + len(r.health) == len(layers) else []
        writer.writerow([r.epoch, r.train_loss, r.train_accuracy, r.test_loss, r.test_accuracy, *figures])
    write_text_atomic(path, text.getvalue(), "history")
