"""The `minidl` command end to end, as a user runs it (in a subprocess)."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import time

import pytest
import torch

from minidl.storage.checkpoint import load_model

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
    assert float(rows[-1]["grad_norm_L0"]) > 0 and 0 <= float(rows[-1]["saturated_L1"]) <= 1  # linear:8, tanh
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
        (["train", "--lr", "-1"], "argument --lr: must be >= 1e-06 and <= 10.0, got -1.0"),
        (["train", "--epochs", "zero"], "argument --epochs: must be a positive integer, got 'zero'"),
        (["train", "--layers", "conv:3"], "unknown layer 'conv'"),
        (["train", "--layers", "linear:0"], "in 'linear:0': units: must be a positive integer between 1 and 1024"),
        (["train", "--layers", "tanh:3"], "a tanh layer takes no value"),
        (["train", "--noise", "0.9"], "argument --noise: must be >= 0.0 and <= 0.5, got 0.9"),
        (["train", "--optimizer", "adam", "--momentum", "0.9"], "invalid spec: optimizer.momentum: not an option"),
        (["train", "--seed", "3000000000"], "argument --seed: must be an integer between 0 and 2147483647"),
        (["train", "--spec", "/nonexistent/spec.json"], "--spec: /nonexistent/spec.json: no such file"),
        (["train", "--spec", "/dev/zero"], "is not a regular file"),
        (["train", "--save", "/nonexistent/dir/m.pt"], "--save: cannot write the model to /nonexistent/dir/m.pt"),
        (["train", "--history", "/nonexistent/h.csv"], "--history: cannot write the history"),
        (["train", "--save-spec", "/nonexistent/s.json"], "--save-spec: cannot write the spec"),
        (["train", "--save", "."], "--save: . is a folder; give a file name for the model"),
        (["reproduce", "--runs", "0"], "argument --runs: must be a positive integer between 1 and 10000, got 0"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_flags_are_argparse_errors(args, message):
    started = time.monotonic()
    result = minidl(*args, check=False)
    assert result.returncode == 2
    assert message in result.stderr and "usage:" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 60  # refused before training, not after


def test_spec_flag_takes_a_model_file_and_refuses_binary(tmp_path):
    binary = tmp_path / "random.pt"
    binary.write_bytes(bytes(range(256)) * 4)
    result = minidl("train", "--spec", str(binary), check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "is neither a JSON spec (it is not UTF-8 text) nor a minidl model file" in result.stderr
    model = tmp_path / "m.pt"
    minidl("train", *SMALL, "--epochs", "1", "--quiet", "--save", str(model))
    rerun = json.loads(minidl("train", "--spec", str(model), "--epochs", "1", "--quiet", "--json").stdout)
    assert rerun["epochs"] == 1  # the model's spec (8 units, 100 points) trained again


def test_layer_types_come_from_the_registry(tmp_path):
    spec = tmp_path / "s.json"
    minidl(
        "train",
        *SMALL[:4],
        "--layers",
        "linear:6,gelu,linear:5,softplus:2",
        "--epochs",
        "1",
        "--quiet",
        "--save-spec",
        str(spec),
    )
    layers = json.loads(spec.read_text())["layers"]
    assert layers == [
        {"type": "linear", "units": 6},
        {"type": "gelu"},
        {"type": "linear", "units": 5},
        {"type": "softplus", "beta": 2.0},
    ]
    help_text = minidl("train", "--help").stdout
    for name in ("gelu", "softplus:BETA", "leaky_relu:SLOPE", "normal", "--nesterov", "--betas"):
        assert name in help_text


def test_divergence_message_names_the_flag():
    result = minidl("train", *SMALL, "--loss", "mse", "--lr", "10", "--epochs", "5", "--quiet", check=False)
    assert result.returncode == 1 and "Training diverged" in result.stdout and "--lr" in result.stdout
    assert "reset" not in result.stdout.lower()


@pytest.mark.parametrize(
    ("args", "header", "report"),
    [
        (["train", *SMALL, "--epochs", "1000000"], "minidl train", "interrupted after"),
        (["reproduce", "--runs", "3", "--epochs", "1000000"], None, "interrupted)"),
    ],
    ids=["train", "reproduce"],
)
def test_ctrl_c_stops_cleanly_and_reports(args, header, report):
    process = subprocess.Popen(
        [sys.executable, "-m", "minidl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        if header:
            assert process.stdout.readline().startswith(header)
        # ready: the progress bar's first line is written after the first epoch, however slow the machine
        assert "[" in process.stderr.readline()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert report in out and "accuracy" in out
    assert "Traceback" not in err


def test_the_progress_bar_writes_a_line_about_every_tenth_into_a_file(monkeypatch):
    from minidl.cli import progress_bar

    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    bar = progress_bar(95, "train", enabled=True)
    for _ in range(95):
        bar.update(1)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("train") and "1/95" in lines[0] and "95/95" in lines[-1]
    assert len(lines) == 11 and "\r" not in stream.getvalue()  # 1, 11, 21, ..., 91 and the last
    quiet = io.StringIO()
    monkeypatch.setattr(sys, "stderr", quiet)
    silent = progress_bar(5, "train", enabled=False)
    silent.update(5)
    silent.close()
    assert quiet.getvalue() == ""


def test_a_backprop_mistake_from_the_command_line(tmp_path):
    """`--mistake` builds the network with that wrong backward; the saved spec carries it."""
    spec_path = tmp_path / "spec.json"
    args = ("train", "--n-train", "300", "--n-test", "100", "--epochs", "3", "--json", "--quiet")
    wrong = minidl(*args, "--mistake", "dw_wrong_sign", "--save-spec", str(spec_path), check=False)
    right = json.loads(minidl(*args).stdout)
    assert json.loads(spec_path.read_text())["mistake"] == "dw_wrong_sign"
    assert json.loads(wrong.stdout)["status"] == "diverged" and wrong.returncode == 1  # every weight steps uphill
    assert right["status"] == "ready" and right["epochs"] == 3
    refused = minidl("train", "--mistake", "tanh_as_sigmoid", "--layers", "linear:4,relu", check=False)
    assert refused.returncode != 0 and "needs a Tanh layer" in refused.stderr
