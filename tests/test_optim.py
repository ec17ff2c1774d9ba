"""SGD and Adam against torch.optim, step for step, in float64."""

from __future__ import annotations

import pytest
import torch

import minidl

F64 = torch.float64


def run_both(make_ours, make_reference, steps=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (4,), (2, 4), (2,)]
    start = [torch.randn(s, generator=g, dtype=F64) for s in shapes]
    grads = [[torch.randn(s, generator=g, dtype=F64) for s in shapes] for _ in range(steps)]

    ours_params = [p.clone() for p in start]
    ours_grads = [torch.zeros_like(p) for p in start]
    opt = make_ours(list(zip(ours_params, ours_grads)))
    ref_params = [p.clone().requires_grad_() for p in start]
    ref_opt = make_reference(ref_params)
    for step_grads in grads:
        opt.zero_grad()
        for buffer, g_step in zip(ours_grads, step_grads):
            buffer.add_(g_step)
        opt.step()
        for p, g_step in zip(ref_params, step_grads):
            p.grad = g_step.clone()
        ref_opt.step()
        for ours, ref in zip(ours_params, ref_params):
            torch.testing.assert_close(ours, ref.detach(), rtol=0, atol=1e-10)
    return ours_params, start


SGD_CASES = [
    dict(),
    dict(momentum=0.9),
    dict(momentum=0.9, nesterov=True),
    dict(weight_decay=0.01),
    dict(momentum=0.5, weight_decay=0.1, nesterov=True),
]


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_matches_torch(kwargs):
    params, start = run_both(
        lambda p: minidl.SGD(p, lr=0.05, **kwargs), lambda p: torch.optim.SGD(p, lr=0.05, **kwargs)
    )
    assert not torch.equal(params[0], start[0])


ADAM_CASES = [dict(), dict(betas=(0.8, 0.99), eps=1e-6), dict(weight_decay=0.05)]


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adam_matches_torch(kwargs):
    run_both(lambda p: minidl.Adam(p, lr=0.01, **kwargs), lambda p: torch.optim.Adam(p, lr=0.01, **kwargs))


def test_lr_change_applies_at_next_step():
    p, g = torch.zeros(3, dtype=F64), torch.ones(3, dtype=F64)
    opt = minidl.SGD([(p, g)], lr=0.1)
    opt.step()
    opt.lr = 1.0
    opt.step()
    torch.testing.assert_close(p, torch.full((3,), -1.1, dtype=F64))


def test_optim_sgd_is_the_report_name():
    assert minidl.optim_SGD is minidl.SGD


def test_trains_the_report_net_a_little():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(200, 2, generator=g)
    y = (((x - 0.5) ** 2).sum(1) < 1 / (2 * torch.pi)).long()
    net = minidl.Sequential(minidl.Linear(2, 25, generator=g), minidl.Tanh(), minidl.Linear(25, 2, generator=g))
    loss, opt = minidl.LossMSE(), minidl.SGD(net.param(), lr=1e-3)
    first = loss(net(x), y).item()
    for _ in range(300):
        opt.zero_grad()
        loss(net(x), y)
        net.backward(loss.backward())
        opt.step()
    assert loss(net(x), y).item() < 0.7 * first
