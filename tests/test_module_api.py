"""The Module contract beyond gradients: accumulation, modes, devices, state, printing, editing."""

from __future__ import annotations

import pytest
import torch

import minidl


def report_net(dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return minidl.Sequential(
        minidl.Linear(2, 25, generator=g, dtype=dtype),
        minidl.Tanh(),
        minidl.Linear(25, 25, generator=g, dtype=dtype),
        minidl.Tanh(),
        minidl.Linear(25, 25, generator=g, dtype=dtype),
        minidl.Tanh(),
        minidl.Linear(25, 2, generator=g, dtype=dtype),
    )


def gradients(net):
    return [g.clone() for _, g in net.param()]


def test_gradients_accumulate_until_zero_grad():
    net, loss = report_net(torch.float64), minidl.LossMSE()
    g = torch.Generator().manual_seed(1)
    x1, x2 = torch.rand(7, 2, generator=g, dtype=torch.float64), torch.rand(5, 2, generator=g, dtype=torch.float64)
    y1, y2 = torch.randint(0, 2, (7,), generator=g), torch.randint(0, 2, (5,), generator=g)

    def grads_of(x, y):
        net.zero_grad()
        loss(net(x), y)
        net.backward(loss.backward())
        return gradients(net)

    first, second = grads_of(x1, y1), grads_of(x2, y2)
    net.zero_grad()
    for x, y in ((x1, y1), (x2, y2)):
        loss(net(x), y)
        net.backward(loss.backward())
    for total, a, b in zip(gradients(net), first, second):
        torch.testing.assert_close(total, a + b)
    net.zero_grad()
    assert all(torch.count_nonzero(g) == 0 for g in gradients(net))


def test_param_is_flat_and_in_order():
    net = report_net()
    params = net.param()
    assert len(params) == 8
    assert params[0][0] is net[0].weight and params[1][0] is net[0].bias
    assert params[-1][0] is net[6].bias
    assert all(p.shape == g.shape for p, g in params)
    assert minidl.Tanh().param() == []


def test_repr_shows_the_architecture():
    text = repr(report_net())
    assert "(0): Linear(in_dim=2, out_dim=25)" in text
    assert "(6): Linear(in_dim=25, out_dim=2)" in text
    assert text.count("Tanh()") == 3
    assert repr(minidl.LeakyReLU(0.2)) == "LeakyReLU(slope=0.2)"
    assert "reduction='sum'" in repr(minidl.LossMSE())


def test_sequential_editing():
    net = minidl.Sequential(minidl.Linear(2, 3), minidl.Tanh())
    net.append(minidl.Linear(3, 2))
    net.insert(2, minidl.ReLU())
    assert len(net) == 4 and isinstance(net[2], minidl.ReLU)
    popped = net.pop(2)
    assert isinstance(popped, minidl.ReLU) and len(net) == 3
    assert isinstance(net[1:], minidl.Sequential) and len(net[1:]) == 2
    assert net(torch.rand(4, 2)).shape == (4, 2)
    assert [type(m) for m in net] == [minidl.Linear, minidl.Tanh, minidl.Linear]
    with pytest.raises(TypeError, match="Sequential holds minidl Modules"):
        net.append(torch.nn.Tanh())


def test_state_dict_round_trip():
    a, b = report_net(seed=0), report_net(seed=1)
    x = torch.rand(6, 2)
    assert not torch.equal(a(x), b(x))
    state = a.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "6.weight", "6.bias"]
    b.load_state_dict(state)
    assert torch.equal(a(x), b(x))
    state["0.weight"].add_(1)  # a copy, not a view of the live parameters
    assert not torch.equal(a[0].weight, state["0.weight"])


def test_train_eval_flags_propagate():
    net = report_net()
    assert net.training and net[0].training
    net.eval()
    assert not net.training and not net[3].training
    net.train()
    assert net[3].training


def test_to_changes_dtype_of_parameters_and_gradients():
    net = report_net().to(dtype=torch.float64)
    assert all(p.dtype == torch.float64 and g.dtype == torch.float64 for p, g in net.param())
    out = net(torch.rand(3, 2, dtype=torch.float64))
    assert out.dtype == torch.float64


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_works_with_autograd_switched_off(dtype):
    previous = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        net, loss = report_net(dtype), minidl.LossCrossEntropy()
        opt = minidl.SGD(net.param(), lr=0.01, momentum=0.9)
        x, y = torch.rand(10, 2, dtype=dtype), torch.randint(0, 2, (10,))
        before = net[0].weight.clone()
        loss(net(x), y)
        net.backward(loss.backward())
        opt.step()
        assert not torch.equal(before, net[0].weight)
    finally:
        torch.set_grad_enabled(previous)


@pytest.mark.parametrize("init", ["default", "xavier", "he", "zeros"])
def test_inits(init):
    layer = minidl.Linear(400, 300, init=init, generator=torch.Generator().manual_seed(0))
    w = layer.weight
    assert w.shape == (300, 400)
    if init == "default":
        assert w.abs().max() <= 1 / 20 and w.abs().max() > 0.045
        assert layer.bias.abs().max() <= 1 / 20 and layer.bias.abs().max() > 0
    elif init == "xavier":
        bound = (6 / 700) ** 0.5
        assert w.abs().max() <= bound and w.abs().max() > 0.9 * bound
    elif init == "he":
        assert abs(w.std().item() - (2 / 400) ** 0.5) < 0.003
    else:
        assert torch.count_nonzero(w) == 0
    if init != "default":
        assert torch.count_nonzero(layer.bias) == 0


def test_same_generator_seed_same_weights():
    a = minidl.Linear(3, 4, generator=torch.Generator().manual_seed(5))
    b = minidl.Linear(3, 4, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)


def test_cuda_path_when_present():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    net = report_net().to("cuda")
    loss, opt = minidl.LossCrossEntropy(), minidl.Adam(net.param(), lr=1e-3)
    x, y = torch.rand(10, 2, device="cuda"), torch.randint(0, 2, (10,), device="cuda")
    loss(net(x), y)
    net.backward(loss.backward())
    opt.step()
    assert all(p.is_cuda and g.is_cuda for p, g in net.param())
