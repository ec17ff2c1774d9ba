from __future__ import annotations

import json
import re

import pytest
import torch

import minidl
from minidl.spec import BEST, REPORT, Layer, Spec, SpecError, build
from minidl.storage.checkpoint import load_model, save_model


def test_default_spec_is_the_report_net():
    experiment = build(REPORT)
    widths = [(m.in_dim, m.out_dim) for m in experiment.model if isinstance(m, minidl.Linear)]
    assert widths == [(2, 25), (25, 25), (25, 25), (25, 2)]
    assert sum(isinstance(m, minidl.Tanh) for m in experiment.model) == 3
    assert isinstance(experiment.loss, minidl.LossMSE) and isinstance(experiment.optimizer, minidl.SGD)
    assert experiment.data.x_train.shape == (1000, 2) and experiment.data.x_test.shape == (1000, 2)
    assert REPORT.describe() == "2-25-25-25-2, tanh"


@pytest.mark.parametrize("spec", [Spec(), REPORT, BEST, Spec(layers=(Layer.make("leaky_relu", slope=0.2),))])
def test_json_round_trip_is_identity(spec):
    text = spec.to_json()
    assert Spec.from_json(text) == spec
    assert json.loads(text) == spec.to_dict()


def test_missing_fields_take_defaults():
    assert Spec.from_dict({}) == Spec()
    assert Spec.from_dict({"optimizer": {"type": "adam"}}).optimizer.lr == 1e-3


BAD_SPECS = [
    (
        {
            "layers": [
                {"type": "linear", "units": 25},
                {"type": "tanh"},
                {"type": "relu"},
                {"type": "linear", "units": 0},
            ]
        },
        "layers[3].units: must be a positive integer between 1 and 1024, got 0",
    ),
    ({"layers": [{"type": "linear", "units": 2.5}]}, "layers[0].units: must be a positive integer"),
    ({"layers": [{"type": "linear", "units": "25"}]}, "layers[0].units: must be a positive integer"),
    ({"layers": [{"type": "linear"}]}, "layers[0].units: missing"),
    ({"layers": [{"type": "conv"}]}, "layers[0].type: must be one of linear, tanh"),
    ({"layers": [{"units": 3}]}, "layers[0].type: missing"),
    ({"layers": [{"type": "tanh", "units": 3}]}, "layers[0].units: not an option of a tanh layer (its options: none)"),
    ({"layers": [{"type": "leaky_relu", "units": 3}]}, "layers[0].units: not an option of a leaky_relu layer"),
    ({"layers": [{"type": "softplus", "beta": 0}]}, "layers[0].beta: must be > 0.0 and <= 100.0, got 0"),
    ({"layers": "linear"}, "layers: must be a list"),
    ({"layers": ["tanh"]}, "layers[0]: must be an object"),
    ({"optimizer": {"lr": -0.1}}, "optimizer.lr: must be >= 1e-06 and <= 10.0, got -0.1"),
    ({"optimizer": {"lr": 0}}, "optimizer.lr: must be >= 1e-06"),
    ({"optimizer": {"lr": 1e-7}}, "optimizer.lr: must be >= 1e-06"),
    ({"optimizer": {"lr": "fast"}}, "optimizer.lr: must be a finite number, got 'fast'"),
    ({"optimizer": {"type": "rmsprop"}}, "optimizer.type: must be one of sgd, adam"),
    ({"optimizer": {"type": "adam", "momentum": 0.9}}, "optimizer.momentum: not an option of 'adam'"),
    ({"optimizer": {"nesterov": True}}, "optimizer: SGD: nesterov=True needs a positive momentum"),
    ({"optimizer": {"type": "adam", "betas": [0.9, 1.0]}}, "optimizer.betas[1]: must be >= 0.0 and < 1.0, got 1.0"),
    ({"optimizer": {"type": "adam", "betas": 0.9}}, "optimizer.betas: must be a list of 2 finite numbers"),
    ({"dataset": {"name": "circle"}}, "dataset.name: must be one of disk"),
    ({"dataset": {"noise": 0.9}}, "dataset.noise: must be >= 0.0 and <= 0.5, got 0.9"),
    ({"dataset": {"n_train": 0}}, "dataset.n_train: must be a positive integer"),
    ({"dataset": []}, "dataset: must be an object"),
    ({"loss": "hinge"}, "loss: must be one of mse, cross_entropy, got 'hinge'"),
    ({"batch_size": True}, "batch_size: must be a positive integer, got True"),
    ({"epochs": -5}, "epochs: must be a positive integer"),
    ({"seed": -1}, "seed: must be an integer between 0 and 2147483647, got -1"),
    ({"seed": 3_000_000_000}, "seed: must be an integer between 0 and 2147483647, got 3000000000"),
    ({"shuffle": "yes"}, "shuffle: must be true or false, got 'yes'"),
    ({"init": "A" * 1_000_000}, "init: must be one of default, xavier, he, zeros, normal, got 'AAAA"),
    ({"dtype": "float16"}, "dtype: must be one of float32, float64"),
    ({"init": "glorot"}, "init: must be one of default, xavier, he, zeros, normal"),
    ({"lr": 0.1}, "spec: unknown field 'lr'"),
    ({"lr_decay": 0}, "lr_decay: must be > 0.0 and <= 1.0, got 0"),
    ({"lr_decay": 1.5}, "lr_decay: must be > 0.0 and <= 1.0, got 1.5"),
    ([1, 2], "spec: must be an object"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_SPECS, ids=[m.split(":")[0] for _, m in BAD_SPECS])
def test_bad_spec_names_the_field(raw, message):
    with pytest.raises(SpecError, match="^" + re.escape(message)):
        Spec.from_dict(raw)


def test_bad_json():
    with pytest.raises(SpecError, match="spec: not valid JSON"):
        Spec.from_json("{layers: ")


def test_save_and_load_predicts_the_same(tmp_path):
    spec = Spec(layers=(Layer.make("linear", units=7), Layer.make("relu")), epochs=2, loss="cross_entropy")
    experiment = build(spec)
    points = torch.rand(50, 2)
    before = experiment.model(points)
    path = tmp_path / "model.pt"
    save_model(path, spec, experiment.model)
    loaded_spec, model = load_model(path)
    assert loaded_spec == spec
    assert torch.equal(model(points), before)


def test_truncated_or_foreign_file_is_a_clear_error(tmp_path):
    experiment = build(REPORT)
    path = tmp_path / "model.pt"
    save_model(path, REPORT, experiment.model)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"truncated\.pt is not a readable minidl model file"):
        load_model(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(ValueError, match=r"foreign\.pt is not a minidl model file"):
        load_model(foreign)
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.pt is not a readable minidl model file"):
        load_model(text)


def test_weights_that_do_not_fit_the_spec(tmp_path):
    small = Spec(layers=(Layer.make("linear", units=3),))
    path = tmp_path / "model.pt"
    save_model(path, small, build(small).model)
    payload = torch.load(path, weights_only=True)
    payload["spec"]["layers"] = [{"type": "linear", "units": 4}]
    torch.save(payload, path)
    with pytest.raises(ValueError, match=r"the saved weights do not fit the saved spec: .*'0.weight' has shape"):
        load_model(path)


def test_every_loss_says_what_its_outputs_mean_for_the_heatmap():
    from minidl.nn.loss import Loss
    from minidl.registry import LOSSES, LossEntry

    outputs = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.3, 0.3], [-2.0, 5.0]])
    mse = LOSSES["mse"].class_one_score(outputs)
    assert mse.tolist() == pytest.approx([1.0, 0.0, 0.5, 1.0])  # (out1 - out0 + 1) / 2, clipped
    cross_entropy = LOSSES["cross_entropy"].class_one_score(outputs)
    assert torch.allclose(cross_entropy, torch.softmax(outputs, -1)[:, 1]) and cross_entropy[2] == 0.5
    for entry in LOSSES.values():  # 0.5 where the two outputs are equal: the decision boundary
        assert entry.class_one_score(torch.full((3, 2), 0.7)).tolist() == pytest.approx([0.5] * 3)
        assert entry.class_one_score(outputs).shape == (4,)

    class LossWithoutScore(Loss):
        pass

    with pytest.raises(TypeError, match="defines no class_one_score"):
        LossEntry("new", LossWithoutScore, "New")
