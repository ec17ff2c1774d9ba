"""The `minidl` command end to end, as a user runs it (in a subprocess)."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time

import pytest
import torch

from minidl.checkpoint import load_model

SMALL = ["--n-train", "100", "--n-test", "100", "--layers", "linear:8,tanh"]


def minidl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "minidl", *args], capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_train_json_output_parses():
    result = minidl("train", *SMALL, "--epochs", "3", "--json", "--quiet")
    metrics = json.loads(result.stdout)
    assert metrics["epochs"] == 3 and metrics["status"] == "ready"
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["train_loss"] > 0


def test_train_human_output_and_files(tmp_path):
    model, history, spec = tmp_path / "m.pt", tmp_path / "h.csv", tmp_path / "s.json"
    result = minidl(
        "train", *SMALL, "--epochs", "4", "--save", str(model), "--history", str(history), "--save-spec", str(spec)
    )
    assert "test accuracy" in result.stdout and f"saved model to {model}" in result.stdout
    assert "4/4" in result.stderr  # the progress bar
    rows = list(csv.DictReader(history.read_text().splitlines()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    loaded_spec, net = load_model(model)
    assert json.loads(spec.read_text()) == loaded_spec.to_dict()
    assert net(torch.rand(3, 2)).shape == (3, 2)
    rerun = minidl("train", "--spec", str(spec), "--epochs", "4", "--json", "--quiet")
    final = json.loads(rerun.stdout)
    assert final["test_accuracy"] == pytest.approx(float(rows[-1]["test_accuracy"]))  # deterministic


def test_reproduce_small_table():
    result = minidl("reproduce", "--runs", "3", "--epochs", "2", "--quiet")
    assert "report" in result.stdout and "97.3%" in result.stdout and "96.2%" in result.stdout
    assert "3 runs trained side by side" in result.stdout and "wall time" in result.stdout


def test_reproduce_json():
    result = minidl("reproduce", "--runs", "2", "--epochs", "1", "--json", "--quiet", "--config", "best")
    data = json.loads(result.stdout)
    assert data["runs"] == 2 and data["epochs_completed"] == 1 and data["config"] == "best"
    assert 0 <= data["test_accuracy_mean"] <= 100


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--lr", "-1"], "argument --lr: expected a positive number, got -1"),
        (["train", "--epochs", "zero"], "argument --epochs: expected a positive integer, got 'zero'"),
        (["train", "--layers", "conv:3"], "unknown layer 'conv'"),
        (["train", "--layers", "linear:0"], "invalid spec: layers[0].units: must be a positive integer"),
        (["train", "--noise", "0.9"], "invalid spec: dataset.noise"),
        (["train", "--spec", "/nonexistent/spec.json"], "cannot read --spec"),
        (["reproduce", "--runs", "0"], "argument --runs: expected a positive integer, got 0"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_flags_are_argparse_errors(args, message):
    result = minidl(*args, check=False)
    assert result.returncode == 2
    assert message in result.stderr and "usage:" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "header", "report"),
    [
        (["train", *SMALL, "--epochs", "1000000", "--quiet"], "minidl train", "interrupted after"),
        (["reproduce", "--runs", "3", "--epochs", "1000000", "--quiet"], None, "interrupted)"),
    ],
    ids=["train", "reproduce"],
)
def test_ctrl_c_stops_cleanly_and_reports(args, header, report):
    process = subprocess.Popen(
        [sys.executable, "-m", "minidl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        if header:  # training has started once the header is out
            assert process.stdout.readline().startswith(header)
        time.sleep(3.0)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert report in out and "accuracy" in out
    assert "Traceback" not in err
