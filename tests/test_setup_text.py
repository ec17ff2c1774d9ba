"""A set-up as one line of text: exact round trips, forgiving of chat formatting, clear refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minidl.params import SpecError
from minidl.spec import ORIGINAL, REPORT, Spec
from minidl_gui.components.lessons import LESSONS
from minidl_gui.components.setup_text import MAX_TEXT, PREFIX, parse_setup_text, setup_text


@pytest.mark.parametrize("spec", [Spec(), REPORT, ORIGINAL, *(lesson.spec for lesson in LESSONS)])
def test_every_set_up_round_trips_exactly_on_one_short_line(spec):
    text = setup_text(spec)
    assert text.startswith(PREFIX) and "\n" not in text and len(text) < 600  # 8 layers: 430
    assert parse_setup_text(text) == spec


def test_defaults_are_left_out():
    assert setup_text(Spec()) == f"{PREFIX} {{}}"
    optimizer = '"optimizer":{"type":"sgd","lr":0.003,"momentum":0.0,"weight_decay":0.0,"nesterov":false}'
    assert setup_text(Spec().replace(lr=0.003)) == f"{PREFIX} {{{optimizer}}}"


@given(lr=st.floats(1e-6, 10.0), units=st.integers(1, 64), seed=st.integers(0, 2**31 - 1))
def test_floats_and_integers_survive_exactly(lr, units, seed):
    spec = Spec().replace(lr=lr, seed=seed, layers=[{"type": "linear", "units": units}, {"type": "gelu"}])
    assert parse_setup_text(setup_text(spec)) == spec


def test_text_as_pasted_from_a_chat_is_forgiven():
    text = setup_text(REPORT)
    for pasted in (f"`{text}`", f'"{text}"', f"  {text}\n", text.replace(" ", "\n", 1), f"here: {text}"):
        assert parse_setup_text(pasted) == REPORT


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("hello", "not a minidl set-up"),
        (f"{PREFIX} {{", "damaged"),
        (f"{PREFIX} [1, 2]", "JSON object"),
        (f'{PREFIX} {{"layers": 3}}', "layers"),
        (f'{PREFIX} {{"optimizer": {{"lr": -1}}}}', "optimizer.lr"),
        (f"{PREFIX} " + "[" * 100_000, "characters"),
        (f"{PREFIX} " + "[" * 50_000, "damaged"),
    ],
)
def test_what_is_not_a_set_up_is_refused_with_the_reason(text, why):
    with pytest.raises(SpecError, match=why.replace("[", r"\[")):
        parse_setup_text(text)
    assert len(text) <= MAX_TEXT or "characters" in why
