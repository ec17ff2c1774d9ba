"""`minidl.backprop`: a traced pass against torch.autograd (float64, random shapes), the gradient
check, the loss along a step, and the named mistakes (each caught by the check, each opt-in)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from references import REFERENCES

import minidl
from minidl import backprop
from minidl.backprop import MISTAKES, gradcheck, loss_along, mistake_in, relative_error, trace
from minidl.backprop.mistakes import repair
from minidl.build import make_model, make_trainer
from minidl.params import SpecError
from minidl.registry import LAYERS, LINEAR
from minidl.spec import Spec

F64 = torch.float64
ACTIVATIONS = sorted(name for name in LAYERS if name != LINEAR)
LOSSES = {"mse": minidl.LossMSE, "cross_entropy": minidl.LossCrossEntropy}


def network(widths, activation, g):
    modules = []
    for k, (i, o) in enumerate(itertools.pairwise(widths)):
        modules.append(minidl.Linear(i, o, generator=g, dtype=F64))
        if k < len(widths) - 2:
            modules.append(LAYERS[activation].build())
    return minidl.Sequential(*modules)


def torch_twin(model, activation):
    """The same network in torch.nn, its weights copied, for autograd to differentiate."""
    layers = []
    for module in model:
        if isinstance(module, minidl.Linear):
            twin = torch.nn.Linear(module.in_dim, module.out_dim, dtype=F64)
            with torch.no_grad():
                twin.weight.copy_(module.weight)
                twin.bias.copy_(module.bias)
            layers.append(twin)
        else:
            defaults = {p.name: p.default for p in LAYERS[activation].params}
            layers.append(REFERENCES[activation](**defaults))
    return layers


@settings(deadline=None, max_examples=40)
@given(
    widths=st.lists(st.integers(1, 6), min_size=2, max_size=5),
    n=st.integers(1, 7),
    activation=st.sampled_from(ACTIVATIONS),
    loss_name=st.sampled_from(sorted(LOSSES)),
    reduction=st.sampled_from(["sum", "mean"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_a_trace_is_autograd_layer_by_layer(widths, n, activation, loss_name, reduction, seed):
    g = torch.Generator().manual_seed(seed)
    model = network(widths, activation, g)
    loss = LOSSES[loss_name](reduction=reduction)
    x = torch.randn(n, widths[0], generator=g, dtype=F64)
    target = torch.randint(0, widths[-1], (n,), generator=g)
    records = trace(model, loss, x, target)

    # autograd on the twin, keeping every intermediate value's gradient
    h = x.clone().requires_grad_()
    values = [h]
    twin = torch_twin(model, activation)
    for layer in twin:
        values.append(layer(values[-1]))
        values[-1].retain_grad()
    if loss_name == "mse":
        one_hot = torch.nn.functional.one_hot(target, widths[-1]).to(F64)
        reference = ((values[-1] - one_hot) ** 2).sum()
        reference = reference / one_hot.numel() if reduction == "mean" else reference
    else:
        reference = torch.nn.functional.cross_entropy(values[-1], target, reduction=reduction)
    reference.backward()

    assert len(records) == len(model) and [r.module for r in records] == list(model)
    assert math.isclose(records.loss, reference.item(), rel_tol=1e-10, abs_tol=1e-12)
    close = dict(rtol=1e-9, atol=1e-11)
    torch.testing.assert_close(records.grad_prediction, values[-1].grad, **close)
    for k, (record, layer) in enumerate(zip(records, twin)):
        torch.testing.assert_close(record.input, values[k].detach(), **close)
        torch.testing.assert_close(record.output, values[k + 1].detach(), **close)
        torch.testing.assert_close(record.grad_output, values[k + 1].grad, **close)
        torch.testing.assert_close(record.grad_input, values[k].grad, **close)
        if isinstance(layer, torch.nn.Linear):
            assert record.name == f"Linear({layer.in_features}, {layer.out_features})"
            torch.testing.assert_close(record.grad_weight, layer.weight.grad, **close)
            torch.testing.assert_close(record.grad_bias, layer.bias.grad, **close)
        else:
            assert record.grad_weight is None and record.grad_bias is None


def test_a_trace_between_a_forward_and_its_backward_changes_nothing():
    g = torch.Generator().manual_seed(3)
    model, loss = network([2, 5, 4, 2], "tanh", g), minidl.LossMSE()
    x, t = torch.rand(8, 2, generator=g, dtype=F64), torch.randint(0, 2, (8,), generator=g)
    twin = network([2, 5, 4, 2], "tanh", torch.Generator().manual_seed(3))
    for m in (model, twin):  # a gradient already accumulated, then a step's forward
        m.backward(loss.forward(m.forward(x), t) * 0 + loss.backward())
        loss.forward(m.forward(x[:3]), t[:3])
    grad = loss.backward()
    trace(model, minidl.LossMSE(), torch.rand(4, 2, dtype=F64), torch.randint(0, 2, (4,)))  # in between
    model.backward(grad)
    twin.backward(grad)
    for (a, ga), (b, gb) in zip(model.param(), twin.param()):
        assert torch.equal(a, b) and torch.equal(ga, gb)


def test_one_point_traces_the_reports_equations():
    """The report's per-sample equations: dw = dz·xᵀ, db = dz, dx = wᵀ·dz, dz = dx ⊙ g′(z)."""
    model = make_model(Spec(dtype="float64"))
    x, t = torch.tensor([[0.3, 0.8]], dtype=F64), torch.tensor([1])
    records = trace(model, minidl.LossMSE(), x, t)
    for record in records:
        if record.is_linear:
            dz, x_in = record.grad_output[0], record.input[0]
            torch.testing.assert_close(record.grad_weight, torch.outer(dz, x_in))
            torch.testing.assert_close(record.grad_bias, dz)
            torch.testing.assert_close(record.grad_input[0], record.module.weight.t() @ dz)
        else:  # Tanh: g′(z) = 1 − tanh(z)²
            derivative = 1 - torch.tanh(record.input[0]) ** 2
            torch.testing.assert_close(record.grad_input[0], record.grad_output[0] * derivative)
    prediction = records.prediction[0]
    torch.testing.assert_close(records.grad_prediction[0], 2 * (prediction - torch.tensor([0.0, 1.0], dtype=F64)))


def test_gradcheck_agrees_with_backprop_on_a_correct_network():
    model = make_model(Spec())  # float32: the check itself runs on a float64 copy
    x = torch.rand(10, 2)
    t = torch.randint(0, 2, (10,))
    before = [p.clone() for p, _ in model.param()]
    for layer, index in ((0, (3, 1)), (2, (7, 11)), (6, ("bias", 1)), (4, ("bias", 0))):
        analytic, numeric = gradcheck(model, minidl.LossMSE(), x, t, layer, index)
        assert relative_error(analytic, numeric) < 1e-6, (layer, index, analytic, numeric)
    assert all(torch.equal(p, b) for (p, _), b in zip(model.param(), before))


@pytest.mark.parametrize(
    "layer, index, message",
    [(1, (0, 0), "not a Linear layer"), (9, (0, 0), "position of a Linear"), (0, (25, 0), "not an entry")],
)
def test_gradcheck_names_a_bad_entry(layer, index, message):
    with pytest.raises(ValueError, match=message):
        gradcheck(make_model(Spec()), minidl.LossMSE(), torch.rand(2, 2), torch.tensor([0, 1]), layer, index)


def trained_a_little(mistake):
    trainer = make_trainer(Spec().replace(n_train=100, n_test=20, mistake=mistake))
    for _ in range(15):
        trainer.step()
    return trainer


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_every_mistake_is_caught_by_the_gradient_check(name):
    trainer = trained_a_little(name)
    model, x, t = trainer.model, trainer.data.x_train[:10], trainer.data.y_train[:10]
    assert mistake_in(model) == name
    worst = 0.0
    for layer in (0, 2, 4, 6):
        for index in ((0, 0), (1, 1), ("bias", 0), ("bias", 1)):
            worst = max(worst, relative_error(*gradcheck(model, trainer.loss, x, t, layer, index)))
    assert worst > 0.05, f"{name}: backprop and the finite difference agree (worst relative error {worst:.2g})"


def test_a_mistake_applied_is_a_new_model_with_the_same_weights():
    model = make_model(Spec())
    for mistake in MISTAKES.values():
        broken = mistake.apply(model)
        assert mistake_in(broken) == mistake.name and mistake_in(model) is None
        assert all(torch.equal(a, b) for (a, _), (b, _) in zip(model.param(), broken.param()))
        assert f"[{mistake.name}]" in repr(broken) and mistake.description


def test_a_mistake_injected_in_place_keeps_the_tensors_and_repairs():
    trainer = make_trainer(Spec().replace(n_train=50, n_test=10))
    tensors = [id(p) for p, _ in trainer.model.param()]
    MISTAKES["dw_wrong_sign"].inject(trainer.model)
    trainer.step()
    assert [id(p) for p, _ in trainer.model.param()] == tensors
    assert mistake_in(trainer.model) == "dw_wrong_sign"
    repair(trainer.model)
    assert mistake_in(trainer.model) is None
    assert all(type(m) in (minidl.Linear, minidl.Tanh) for m in trainer.model)


def test_the_real_classes_stay_correct():
    for mistake in MISTAKES.values():
        mistake.apply(make_model(Spec()))
    assert minidl.Tanh.forward is not None and minidl.Tanh().forward(torch.zeros(1)).item() == 0.0
    x = torch.randn(4, 3, dtype=F64)
    layer = minidl.Linear(3, 2, dtype=F64)
    layer.forward(x)
    layer.backward(torch.ones(4, 2, dtype=F64))
    torch.testing.assert_close(layer.grad_weight, torch.ones(4, 2, dtype=F64).t() @ x)


def test_a_mistake_is_a_spec_field_checked_against_the_network():
    spec = Spec().replace(mistake="tanh_as_sigmoid")
    assert Spec.from_json(spec.to_json()) == spec
    assert "mistake" not in Spec().to_dict()  # files without one read as before
    with pytest.raises(SpecError, match="needs a Tanh layer"):
        Spec().replace(layers=[{"type": "linear", "units": 4}, {"type": "relu"}], mistake="tanh_as_sigmoid")
    with pytest.raises(SpecError, match="mistake"):
        Spec().replace(mistake="forgot_everything")


def test_a_forgotten_derivative_plateaus_where_backprop_learns():
    layers = [{"type": "linear", "units": 16}, {"type": "tanh"}] * 2
    spec = Spec().replace(layers=layers, optimizer="adam", lr=0.01, loss="cross_entropy", n_test=300)
    right, wrong = make_trainer(spec), make_trainer(spec.replace(mistake="no_activation_derivative"))
    right.run(40)
    wrong.run(40)
    assert right.last_record.test_accuracy > 0.9
    assert wrong.last_record.test_accuracy < 0.7


def test_the_loss_along_a_step_and_the_weights_put_back():
    trainer = make_trainer(Spec().replace(n_train=200, n_test=10))
    trainer.step()
    grads = [g.clone() for _, g in trainer.model.param()]
    before = [p.clone() for p, _ in trainer.model.param()]
    x, t = trainer.data.x_train, trainer.data.y_train
    etas = [0.0, 0.01, 0.5]
    losses = loss_along(trainer.model, trainer.loss, x, t, grads, etas)
    assert all(torch.equal(p, b) for (p, _), b in zip(trainer.model.param(), before))
    for eta, value in zip(etas, losses.tolist()):
        moved = make_model(Spec())
        moved.load_state_dict({k: v - eta * g for (k, v, _), g in zip(trainer.model.named_param(), grads)})
        expected = minidl.LossMSE().forward(moved.forward(x), t).item() / len(x)
        assert math.isclose(value, expected, rel_tol=1e-5)
    with pytest.raises(ValueError, match="one tensor per parameter"):
        loss_along(trainer.model, trainer.loss, x, t, grads[:1], etas)


@pytest.mark.parametrize("loss_class", [minidl.LossMSE, minidl.LossCrossEntropy])
def test_per_sample_losses_add_up_to_the_sum(loss_class):
    g = torch.Generator().manual_seed(0)
    prediction, target = torch.randn(9, 3, generator=g, dtype=F64), torch.randint(0, 3, (9,), generator=g)
    per_sample = loss_class().per_sample(prediction, target)
    assert per_sample.shape == (9,) and bool((per_sample >= 0).all())
    torch.testing.assert_close(per_sample.sum(), loss_class(reduction="sum").forward(prediction, target))


def test_a_trainer_can_keep_each_steps_update():
    trainer = make_trainer(Spec().replace(n_train=40, n_test=10))
    trainer.step()
    assert trainer.last_update is None
    trainer.record_update = True
    before = [p.clone() for p, _ in trainer.model.param()]
    trainer.step()
    for (p, _), b, d in zip(trainer.model.param(), before, trainer.last_update):
        torch.testing.assert_close(d, p - b)
    assert minidl.backprop is backprop


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_mistake_is_the_same_on_any_leading_shape(name):
    """Rows of a (4, 5, in) input give what the same 20 rows give: a mistake is applied once."""
    g = torch.Generator().manual_seed(1)
    model = network([3, 4, 2], "tanh", g)
    flat, shaped = MISTAKES[name].apply(model), MISTAKES[name].apply(model)
    x, up = torch.randn(4, 5, 3, generator=g, dtype=F64), torch.randn(4, 5, 2, generator=g, dtype=F64)
    flat.forward(x.reshape(20, 3))
    shaped.forward(x)
    torch.testing.assert_close(shaped.backward(up), flat.backward(up.reshape(20, 2)).reshape(4, 5, 3))
    for (_, a), (_, b) in zip(shaped.param(), flat.param()):
        torch.testing.assert_close(a, b)
