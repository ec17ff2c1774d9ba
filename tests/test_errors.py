"""Bad input gets an error that names the problem, not a traceback from deep inside torch."""

from __future__ import annotations

import math

import pytest
import torch

import minidl


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0, 3), ValueError, r"Linear: in_dim must be a positive integer, got 0"),
        ((2, -1), ValueError, r"Linear: out_dim must be a positive integer, got -1"),
        ((2.5, 3), TypeError, r"Linear: in_dim must be a positive integer, got 2.5"),
        ((True, 3), TypeError, r"Linear: in_dim must be a positive integer, got True"),
    ],
)
def test_bad_linear_dims(args, error, message):
    with pytest.raises(error, match=message):
        minidl.Linear(*args)


def test_bad_init_name():
    with pytest.raises(ValueError, match=r"init must be one of .* got 'glorot'"):
        minidl.Linear(2, 3, init="glorot")


def test_wrong_input_width_names_the_layer_and_shapes():
    net = minidl.Sequential(minidl.Linear(2, 25), minidl.Tanh(), minidl.Linear(30, 2))
    message = r"layer 2 \(Linear\): Linear\(30, 2\): expected input of shape \(N, 30\), got \(4, 25\)"
    with pytest.raises(ValueError, match=message):
        net(torch.rand(4, 2))
    with pytest.raises(ValueError, match=r"layer 0 .*expected input of shape \(N, 2\), got \(4, 3\)"):
        net(torch.rand(4, 3))


def test_wrong_input_dtype_and_type():
    layer = minidl.Linear(2, 3)
    with pytest.raises(TypeError, match=r"input has dtype torch.float64, the parameters are torch.float32"):
        layer(torch.rand(4, 2, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"input must be a torch.Tensor, got list"):
        layer([[1.0, 2.0]])
    with pytest.raises(TypeError, match=r"Tanh: input must be a floating tensor, got torch.int64"):
        minidl.Tanh()(torch.ones(3, dtype=torch.long))


@pytest.mark.parametrize("module", [minidl.Linear(2, 3), minidl.Tanh(), minidl.ReLU(), minidl.Sigmoid()])
def test_backward_before_forward(module):
    with pytest.raises(RuntimeError, match=rf"{type(module).__name__}.backward called before forward"):
        module.backward(torch.ones(4, 3))


def test_backward_before_forward_in_sequential_names_the_layer():
    net = minidl.Sequential(minidl.Linear(2, 3), minidl.Tanh())
    with pytest.raises(RuntimeError, match=r"layer 1 \(Tanh\): Tanh.backward called before forward"):
        net.backward(torch.ones(4, 3))


def test_gradient_of_wrong_shape():
    layer = minidl.Linear(2, 3)
    layer(torch.rand(4, 2))
    with pytest.raises(ValueError, match=r"Linear\(2, 3\).backward: gradient has shape \(4, 5\), expected \(4, 3\)"):
        layer.backward(torch.ones(4, 5))
    tanh = minidl.Tanh()
    tanh(torch.rand(4, 3))
    with pytest.raises(ValueError, match=r"gradient has shape \(3, 4\), but the forward output had shape \(4, 3\)"):
        tanh.backward(torch.ones(3, 4))


@pytest.mark.parametrize("loss_cls", [minidl.LossMSE, minidl.LossCrossEntropy])
def test_loss_target_errors(loss_cls):
    loss, pred = loss_cls(), torch.rand(4, 2)
    name = loss_cls.__name__
    with pytest.raises(ValueError, match=rf"{name}: class-index target must have shape \(4,\) .* got \(5,\)"):
        loss(pred, torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match=rf"{name}: class index 2 out of range for 2 classes"):
        loss(pred, torch.tensor([0, 1, 2, 1]))
    with pytest.raises(ValueError, match=r"class index -1 out of range"):
        loss(pred, torch.tensor([0, -1, 1, 1]))
    with pytest.raises(ValueError, match=r"a float target must have the prediction's shape \(4, 2\), got \(4, 3\)"):
        loss(pred, torch.rand(4, 3))
    with pytest.raises(TypeError, match=r"target dtype torch.float64 differs from prediction dtype torch.float32"):
        loss(pred, torch.rand(4, 2, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"class indices \(integer\) or float, got torch.bool"):
        loss(pred, torch.ones(4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"prediction must have shape \(N, C\), got \(4,\)"):
        loss(torch.rand(4), torch.rand(4))
    with pytest.raises(RuntimeError, match=rf"{name}.backward called before forward"):
        loss_cls().backward()
    with pytest.raises(ValueError, match=r"reduction must be one of .* got 'avg'"):
        loss_cls(reduction="avg")


@pytest.mark.parametrize("lr", [0, -0.1, math.nan, math.inf])
def test_bad_learning_rate(lr):
    net = minidl.Linear(2, 2)
    with pytest.raises(ValueError, match=r"SGD: lr must be"):
        minidl.SGD(net.param(), lr=lr)
    opt = minidl.Adam(net.param(), lr=0.1)
    with pytest.raises(ValueError, match=r"Adam: lr must be"):
        opt.lr = lr
    assert opt.lr == 0.1  # a rejected value leaves the old one


def test_bad_optimizer_arguments():
    net = minidl.Linear(2, 2)
    with pytest.raises(TypeError, match=r"lr must be a finite number, got '0.1'"):
        minidl.SGD(net.param(), lr="0.1")
    with pytest.raises(ValueError, match=r"nesterov=True needs a positive momentum"):
        minidl.SGD(net.param(), lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"momentum must be >= 0.0, got -0.5"):
        minidl.SGD(net.param(), lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match=r"betas\[1\] must be >= 0.0 and < 1.0, got 1.0"):
        minidl.Adam(net.param(), betas=(0.9, 1.0))
    with pytest.raises(TypeError, match=r"params\[0\] must be a \(parameter, gradient\) pair"):
        minidl.SGD([torch.ones(2)], lr=0.1)


def test_load_state_dict_errors_leave_the_model_untouched():
    net = minidl.Sequential(minidl.Linear(2, 3), minidl.Tanh(), minidl.Linear(3, 2))
    before = net.state_dict()
    good = minidl.Sequential(minidl.Linear(2, 3), minidl.Tanh(), minidl.Linear(3, 2)).state_dict()

    missing = dict(good)
    del missing["2.bias"]
    with pytest.raises(ValueError, match=r"missing keys \['2.bias'\], unexpected keys \[\]"):
        net.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"unexpected keys \['9.weight'\]"):
        net.load_state_dict({**good, "9.weight": torch.zeros(1)})
    bad_shape = {**good, "2.weight": torch.zeros(3, 2)}
    with pytest.raises(ValueError, match=r"'2.weight' has shape \(3, 2\), the model expects \(2, 3\)"):
        net.load_state_dict(bad_shape)
    for key, value in before.items():  # all-or-nothing: '0.weight' was not copied before the failure
        assert torch.equal(net.state_dict()[key], value)
