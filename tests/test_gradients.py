"""Every backward pass against torch.autograd, in float64, on random shapes."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from references import REFERENCES

import minidl
from minidl.registry import LAYERS, LINEAR
from minidl.spec import Layer

F64 = torch.float64
dims = st.integers(1, 9)
seeds = st.integers(0, 2**31 - 1)

ACTIVATIONS = sorted(name for name in LAYERS if name != LINEAR)


def test_every_registered_activation_has_a_reference():
    assert set(ACTIVATIONS) == set(REFERENCES)


def rand(*shape, g):
    return torch.randn(*shape, generator=g, dtype=F64)


def assert_close(ours, reference):
    torch.testing.assert_close(ours, reference, rtol=1e-10, atol=1e-12)


@given(n=dims, i=dims, o=dims, bias=st.booleans(), seed=seeds)
def test_linear_matches_autograd(n, i, o, bias, seed):
    g = torch.Generator().manual_seed(seed)
    layer = minidl.Linear(i, o, bias=bias, generator=g, dtype=F64)
    x, up = rand(n, i, g=g), rand(n, o, g=g)
    w = layer.weight.clone().requires_grad_()
    b = layer.bias.clone().requires_grad_() if bias else None
    xr = x.clone().requires_grad_()
    ref = xr @ w.t() + (b if bias else 0)
    ref.backward(up)

    out = layer.forward(x)
    grad_x = layer.backward(up)
    assert_close(out, ref.detach())
    assert_close(grad_x, xr.grad)
    assert_close(layer.grad_weight, w.grad)
    if bias:
        assert_close(layer.grad_bias, b.grad)
    assert len(layer.param()) == (2 if bias else 1)


@given(lead=st.lists(dims, min_size=0, max_size=3), i=dims, o=dims, seed=seeds)
def test_linear_on_any_leading_shape(lead, i, o, seed):
    g = torch.Generator().manual_seed(seed)
    layer = minidl.Linear(i, o, generator=g, dtype=F64)
    x, up = rand(*lead, i, g=g), rand(*lead, o, g=g)
    xr = x.clone().requires_grad_()
    w = layer.weight.clone().requires_grad_()
    ref = xr @ w.t() + layer.bias
    ref.backward(up)
    assert_close(layer(x), ref.detach())
    assert_close(layer.backward(up), xr.grad)
    assert_close(layer.grad_weight, w.grad)


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(shape=st.lists(dims, min_size=1, max_size=4), seed=seeds, scale=st.floats(0.5, 10.0))
def test_activation_matches_autograd(name, shape, seed, scale):
    g = torch.Generator().manual_seed(seed)
    x, up = rand(*shape, g=g) * 3 * scale, rand(*shape, g=g)
    x.view(-1)[0] = 0.0  # the kink of ReLU / LeakyReLU is checked too
    options = {p.name: scale / 10 if p.name == "slope" else scale for p in LAYERS[name].params}
    xr = x.clone().requires_grad_()
    ref = REFERENCES[name](**options)(xr)
    ref.backward(up)
    module = Layer.make(name, **options).build()
    assert_close(module(x), ref.detach())
    assert_close(module.backward(up), xr.grad)
    assert module.param() == []


def torch_mse(pred, target, reduction):
    if not target.is_floating_point():
        target = torch.nn.functional.one_hot(target, pred.shape[-1]).to(pred.dtype)
    return torch.nn.functional.mse_loss(pred, target, reduction=reduction)


def torch_ce(pred, target, reduction):
    return torch.nn.functional.cross_entropy(pred, target, reduction=reduction)


LOSSES = {"mse": (minidl.LossMSE, torch_mse), "ce": (minidl.LossCrossEntropy, torch_ce)}


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("target_kind", ["indices", "one_hot", "probabilities"])
@given(n=dims, c=st.integers(2, 7), seed=seeds)
def test_loss_matches_autograd(loss_name, reduction, target_kind, n, c, seed):
    ours_cls, reference = LOSSES[loss_name]
    g = torch.Generator().manual_seed(seed)
    pred = rand(n, c, g=g) * 4
    indices = torch.randint(0, c, (n,), generator=g)
    if target_kind == "indices":
        target = indices
    elif target_kind == "one_hot":
        target = torch.nn.functional.one_hot(indices, c).to(F64)
    else:
        target = torch.softmax(rand(n, c, g=g), 1)
    pr = pred.clone().requires_grad_()
    ref = reference(pr, target, reduction)
    ref.backward()
    loss = ours_cls(reduction=reduction)
    value = loss(pred, target)
    assert value.dim() == 0
    assert_close(value, ref.detach())
    assert_close(loss.backward(), pr.grad)


def test_cross_entropy_is_stable_at_huge_logits():
    pred = torch.tensor([[1e4, -1e4], [-1e4, 1e4], [1e4, 1e4]], dtype=F64)
    target = torch.tensor([1, 1, 0])
    loss = minidl.LossCrossEntropy()
    value = loss(pred, target)
    grad = loss.backward()
    pr = pred.clone().requires_grad_()
    torch.nn.functional.cross_entropy(pr, target, reduction="sum").backward()
    assert torch.isfinite(value) and torch.isfinite(grad).all()
    assert_close(value, torch.tensor(2e4 + torch.log(torch.tensor(2.0, dtype=F64)).item(), dtype=F64))
    assert_close(grad, pr.grad)


ARCH_PARTS = st.lists(st.tuples(st.integers(1, 8), st.sampled_from(ACTIVATIONS)), min_size=1, max_size=4)


@given(widths=ARCH_PARTS, n=dims, in_dim=dims, seed=seeds, loss_name=st.sampled_from(sorted(LOSSES)))
def test_random_sequential_matches_autograd(widths, n, in_dim, seed, loss_name):
    g = torch.Generator().manual_seed(seed)
    modules, reference_fns, prev = [], [], in_dim
    for width, act in widths:
        layer = Layer.make(act)  # the registry's default options
        modules += [minidl.Linear(prev, width, generator=g, dtype=F64), layer.build()]
        reference_fns += [None, REFERENCES[act](**dict(layer.options))]
        prev = width
    classes = max(prev, 2)
    modules.append(minidl.Linear(prev, classes, generator=g, dtype=F64))
    reference_fns.append(None)
    net = minidl.Sequential(*modules)

    ref_params = [p.clone().requires_grad_() for p, _ in net.param()]
    x = rand(n, in_dim, g=g)
    target = torch.randint(0, classes, (n,), generator=g)
    xr = x.clone().requires_grad_()
    h, k = xr, 0
    for activation in reference_fns:
        if activation is None:
            h = h @ ref_params[k].t() + ref_params[k + 1]
            k += 2
        else:
            h = activation(h)
    LOSSES[loss_name][1](h, target, "sum").backward()

    loss = LOSSES[loss_name][0]()
    loss(net(x), target)
    grad_x = net.backward(loss.backward())
    assert_close(grad_x, xr.grad)
    for (_, ours), ref in zip(net.param(), ref_params):
        assert_close(ours, ref.grad)


@given(models=st.integers(1, 5), n=dims, i=dims, o=dims, seed=seeds)
def test_ensemble_linear_equals_separate_linears(models, n, i, o, seed):
    g = torch.Generator().manual_seed(seed)
    layers = [minidl.Linear(i, o, generator=g, dtype=F64) for _ in range(models)]
    ensemble = minidl.EnsembleLinear.stack(layers)
    x, up = rand(models, n, i, g=g), rand(models, n, o, g=g)
    out = ensemble(x)
    grad_x = ensemble.backward(up)
    for r, layer in enumerate(layers):
        assert_close(out[r], layer(x[r]))
        assert_close(grad_x[r], layer.backward(up[r]))
        assert_close(ensemble.grad_weight[r], layer.grad_weight)
        assert_close(ensemble.grad_bias[r], layer.grad_bias)


def test_ensemble_draws_match_linear_draws():
    ensemble = minidl.EnsembleLinear(3, 4, 5, generator=torch.Generator().manual_seed(7))
    g = torch.Generator().manual_seed(7)
    for r in range(3):
        layer = minidl.Linear(4, 5, generator=g)
        assert torch.equal(ensemble.weight[r], layer.weight)
        assert torch.equal(ensemble.bias[r], layer.bias)


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_losses_give_each_ensemble_member_its_own_gradient(loss_name, reduction):
    g = torch.Generator().manual_seed(3)
    pred, target = rand(4, 6, 3, g=g), torch.randint(0, 3, (4, 6), generator=g)
    loss = LOSSES[loss_name][0](reduction=reduction)
    total = loss(pred, target)
    grad = loss.backward()
    single = LOSSES[loss_name][0](reduction=reduction)
    parts = []
    for r in range(4):
        parts.append(single(pred[r], target[r]))
        assert_close(grad[r], single.backward())
    assert_close(total, torch.stack(parts).sum())
