"""Points files (CSV read and write, hostile input) and the train/test split of painted points."""

from __future__ import annotations

import math
import os
import threading

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minidl.build import make_trainer
from minidl.data import TEST_SHARE, Split, random_split
from minidl.spec import Spec
from minidl.storage.files import FileProblem
from minidl.storage.points import (
    MARGIN,
    Points,
    read_points_csv,
    split_by_mask,
    split_points,
    write_points_csv,
)


def read_text(tmp_path, text: str | bytes, max_points: int = 1000, name: str = "points.csv", **options):
    path = tmp_path / name
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return read_points_csv(path, max_points, **options)


def problem(tmp_path, text: str | bytes, **options) -> str:
    with pytest.raises(FileProblem) as caught:
        read_text(tmp_path, text, **options)
    return str(caught.value)


def points(coordinates, labels, is_test=None) -> Points:
    tests = None if is_test is None else torch.tensor(is_test, dtype=torch.bool)
    return Points(torch.tensor(coordinates, dtype=torch.float64), torch.tensor(labels, dtype=torch.int64), tests)


# ---- round trips -----------------------------------------------------------------------------------
unit = st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)
rows = st.lists(st.tuples(unit, unit, st.integers(0, 1), st.booleans()), min_size=1, max_size=40)


@given(rows=rows, with_split=st.booleans())
def test_write_then_read_gives_exactly_the_same_float64_points(tmp_path_factory, rows, with_split):
    path = tmp_path_factory.mktemp("round") / "points.csv"
    original = points([r[:2] for r in rows], [r[2] for r in rows], [r[3] for r in rows] if with_split else None)
    write_points_csv(path, original)
    back, notice = read_points_csv(path, 1000)
    assert back.x.dtype == torch.float64 and back.labels.dtype == torch.int64
    assert back.x.tolist() == original.x.tolist()  # exact, bit for bit (no rescaling inside [0, 1])
    assert torch.equal(back.labels, original.labels)
    if with_split:
        assert torch.equal(back.is_test, original.is_test)
    else:
        assert back.is_test is None
    assert ("both classes" in notice) == (len({r[2] for r in rows}) == 1)


@given(rows=rows)
def test_float32_points_come_back_as_the_same_float32_values(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("f32") / "points.csv"
    x32 = torch.tensor([r[:2] for r in rows], dtype=torch.float32)
    write_points_csv(path, Points(x32, torch.tensor([r[2] for r in rows])))
    back, _ = read_points_csv(path, 1000)
    assert back.x.dtype == torch.float64
    assert torch.equal(back.x, x32.double())  # the exact float64 value of each float32
    assert torch.equal(back.x.float(), x32)


def test_written_file_looks_like_the_documented_format(tmp_path):
    path = tmp_path / "out.csv"
    write_points_csv(path, points([[0.1, 0.25], [1.0, 0.0]], [1, 0]))
    assert path.read_text() == "x,y,label\n0.1,0.25,1\n1.0,0.0,0\n"
    write_points_csv(path, points([[0.1, 0.25], [1.0, 0.0]], [1, 0]), splits=["test", "train"])
    assert path.read_text() == "x,y,label,split\n0.1,0.25,1,test\n1.0,0.0,0,train\n"
    write_points_csv(path, points([[0.1, 0.25], [1.0, 0.0]], [1, 0], [False, True]))  # the attached split
    assert path.read_text().splitlines()[1:] == ["0.1,0.25,1,train", "1.0,0.0,0,test"]
    write_points_csv(path, points([[0.5, 0.5]], [0], [True]), splits=torch.tensor([False]))  # splits wins
    assert path.read_text().splitlines()[1] == "0.5,0.5,0,train"
    assert not [p for p in tmp_path.iterdir() if p.name != "out.csv"]  # no temporary file left behind


def test_write_refuses_bad_arguments_and_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old")
    two = points([[0.1, 0.2], [0.3, 0.4]], [0, 1])
    with pytest.raises(ValueError, match="no points"):
        write_points_csv(path, Points(torch.zeros(0, 2), torch.zeros(0, dtype=torch.int64)))
    with pytest.raises(TypeError, match="splits"):
        write_points_csv(path, two, splits=["train"])
    with pytest.raises(TypeError, match="splits"):
        write_points_csv(path, two, splits="traintest")
    with pytest.raises(TypeError, match="bool tensor"):
        write_points_csv(path, two, splits=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"splits\[1\] must be 'train' or 'test', got 'valid'"):
        write_points_csv(path, two, splits=["train", "valid"])
    with pytest.raises(TypeError, match="must be Points"):
        write_points_csv(path, [[0.1, 0.2, 1]])
    with pytest.raises(FileProblem, match="is a folder"):
        write_points_csv(tmp_path, two)
    with pytest.raises(FileProblem, match="does not exist"):
        write_points_csv(tmp_path / "missing" / "out.csv", two)
    assert path.read_text() == "old"


# ---- what the reader accepts -----------------------------------------------------------------------
EXPECTED = [[0.25, 0.5], [0.75, 1.0], [0.0, 0.125]]


@pytest.mark.parametrize(
    "text",
    [
        "x,y,label\n0.25,0.5,1\n0.75,1,0\n0,0.125,1\n",
        "0.25,0.5,1\n0.75,1,0\n0,0.125,1",  # no header, no final newline
        " X , Y , Label \r\n0.25 , 0.5 , 1\r\n0.75,1.0,0.0\r\n0,1.25e-1,1.\r\n",  # CRLF, spaces, case, 1.0 labels
        "x,y,label\r0.25,0.5,1\r0.75,1,0\r0,0.125,1\r",  # old Mac line ends
        "\ufeffx,y,label\n0.25,0.5,1\n0.75,1,0\n0,0.125,1\n",  # a byte order mark
        '"x","y","label"\n"0.25","0.5","1"\n0.75,1,0\n0,0.125,1\n',  # quoted fields
        "# painted by hand\n\nx,y,label\n# the first class\n0.25,0.5,1  # a comment\n\n0.75,1,0\n  \n0,0.125,1\n#",
        "x;y;label\n0.25;0.5;1\n0.75;1;0\n0;0.125;1\n",  # semicolons
        "x\ty\tlabel\n0.25\t0.5\t1\n0.75\t1\t0\n0\t0.125\t1\n",  # tabs
        "x y label\n0.25   0.5 1\n0.75 1 0\n  0 0.125  1\n",  # spaces
        "label,y,x\n1,0.5,0.25\n0,1,0.75\n1,0.125,0\n",  # columns in another order, named by the header
        "x,y,label\n+0.25,.5,+1\n75e-2,1E0,0\n-0,0.125,1\n",  # every number form
    ],
)
def test_accepted_forms(tmp_path, text):
    read, notice = read_text(tmp_path, text)
    assert read.x.tolist() == EXPECTED
    assert read.labels.tolist() == [1, 0, 1]
    assert read.is_test is None
    assert notice == ""


def test_split_column_is_read_with_or_without_header(tmp_path):
    for text in ("x,y,label,split\n0.1,0.2,1,train\n0.3,0.4,0,TEST\n", "0.1,0.2,1,train\n0.3,0.4,0, Test \n"):
        read, _ = read_text(tmp_path, text)
        assert read.is_test.tolist() == [False, True]
    read, _ = read_text(tmp_path, "split,label,x,y\ntest,1,0.1,0.2\ntrain,0,0.3,0.4\n")
    assert read.is_test.tolist() == [True, False] and read.x.tolist() == [[0.1, 0.2], [0.3, 0.4]]


def test_one_class_is_loaded_with_a_notice(tmp_path):
    read, notice = read_text(tmp_path, "0.1,0.2,1\n0.3,0.4,1\n")
    assert read.labels.tolist() == [1, 1]
    assert notice == "every point is of class 1; a network needs points of both classes to learn a boundary"


def test_exactly_max_points_are_accepted(tmp_path):
    read, _ = read_text(tmp_path, "x,y,label\n" + "0.5,0.5,0\n0.5,0.5,1\n" * 5, max_points=10)
    assert len(read) == 10


# ---- rescaling -------------------------------------------------------------------------------------
def test_outside_points_are_rescaled_keeping_the_aspect_ratio(tmp_path):
    read, notice = read_text(tmp_path, "x,y,label\n-3.2,0,1\n7.5,12,0\n1,2,1\n")
    assert notice == (
        "the coordinates went beyond [0, 1] (x in [-3.2, 7.5], y in [0, 12]): "
        "rescaled into [0.02, 0.98]², keeping the aspect ratio"
    )
    x = read.x
    assert x[:, 1].min().item() == pytest.approx(MARGIN) and x[:, 1].max().item() == pytest.approx(1 - MARGIN)
    width, height = (x.max(0).values - x.min(0).values).tolist()
    assert width / height == pytest.approx(10.7 / 12)  # one factor for both axes
    assert x[:, 0].min().item() + x[:, 0].max().item() == pytest.approx(1.0)  # the shorter side centred
    assert read.labels.tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5,5,0\n5,5,1\n", [[0.5, 0.5], [0.5, 0.5]]),  # one place: the middle
        ("2,0.5,0\n4,0.5,1\n", [[MARGIN, 0.5], [1 - MARGIN, 0.5]]),  # a flat axis sits in the middle
        ("-1e308,1e308,0\n1.7e308,-1.7e308,1\n", None),  # max - min would overflow
        ("-5e-324,0,0\n0,0,1\n", None),  # a range too small to divide by
        ("-1e-320,0,0\n1e-320,1,1\n", None),  # subnormals
    ],
)
def test_rescaling_never_divides_by_zero_or_overflows(tmp_path, text, expected):
    read, notice = read_text(tmp_path, text)
    assert "rescaled" in notice
    assert bool(torch.isfinite(read.x).all()) and read.x.min() >= 0 and read.x.max() <= 1
    if expected is not None:
        assert read.x.flatten().tolist() == pytest.approx([v for row in expected for v in row])


# ---- what the reader refuses -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,y,label\n0.1,0.2,1\n0.3,0.4,0\n0.5,0.6,2\n", "line 4: label must be 0 or 1, got '2'"),
        ("0.1,0.2,-1\n", "line 1: label must be 0 or 1, got '-1'"),
        ("0.1,0.2,0.5\n", "line 1: label must be 0 or 1, got '0.5'"),
        ("0.1,0.2,yes\n", "line 1: label must be 0 or 1, got 'yes'"),
        ("0.1,0.2,nan\n", "line 1: label must be 0 or 1, got 'nan'"),
        ("x,y,label\n0.1,0.2\n", "line 2: expected 3 fields separated by commas (x, y, label), got 2"),
        ("0.1,0.2\n", "line 1: expected 3 fields separated by commas (x, y, label) or 4 (x, y, label, split), got 2"),
        ("0.1,0.2,1\n0.3,0.4,1,test\n", "line 2: expected 3 fields separated by commas (x, y, label), got 4"),
        ("0.1;0.2;1\n0.3,0.4,1\n", "line 2: expected 3 fields separated by semicolons (x, y, label), got 1"),
        ("0.1,0.2,1,\n", "line 1: split must be 'train' or 'test', got ''"),
        (
            "0.1,0.2,1,0,\n",
            "line 1: expected 3 fields separated by commas (x, y, label) or 4 (x, y, label, split), got 5",
        ),
        ("# hi\n\nx,y,label\n0.1,abc,1\n", "line 4: y must be a number, got 'abc'"),
        ("0.1,,1\n", "line 1: y is empty"),
        ("nan,0.2,1\n", "line 1: x must be a finite number, got 'nan'"),
        ("0.1,-Infinity,1\n", "line 1: y must be a finite number, got '-Infinity'"),
        ("1e400,0.2,1\n", "line 1: x '1e400' is too large (it overflows to infinity)"),
        ("0.1,1_0,1\n", "line 1: y must be a number, got '1_0'"),  # Python's float() would take it
        ("0x1p-2,0.2,1\n", "line 1: x must be a number, got '0x1p-2'"),
        ("\uff11,0.2,1\n", "line 1: x must be a number, got '\uff11'"),  # not an ASCII digit
        ("x;y;label\n0,5;0,25;1\n", "line 2: x must be a number with a decimal dot, got '0,5'"),
        ("0.1,0.2,1,valid\n", "line 1: split must be 'train' or 'test', got 'valid'"),
        (
            "a,b,c\n0.1,0.2,1\n",
            "line 1: the header must name the columns x, y, label (and optionally split), got 'a,b,c'",
        ),
        ("x,y,label,split,extra\n", "line 1: the header must name the columns"),
        ("x,x,label\n", "line 1: the header must name the columns"),
        ("x,y,label\n0.1,0.2,1\nx,y,label\n", "line 3: x must be a number, got 'x'"),
        ("x,y,1\n", "line 1: x must be a number, got 'x'"),
        ("0.1,0.2," + "9" * 5000 + "\n", "line 1: label must be 0 or 1, got '999"),
    ],
)
def test_bad_lines_name_the_line_and_why(tmp_path, text, message):
    said = problem(tmp_path, text)
    assert said.startswith(f"{tmp_path / 'points.csv'}, {message}")
    assert len(said) < 300 + len(str(tmp_path))  # a long value is shortened


@pytest.mark.parametrize("text", ["", "\n\n  \n", "# only a comment\n", "x,y,label\n", "\ufeff", "x,y,label\n# none\n"])
def test_no_points(tmp_path, text):
    assert problem(tmp_path, text).endswith("holds no points (only a header, comments or blank lines)")


def test_more_than_max_points_names_the_first_extra_line(tmp_path):
    said = problem(tmp_path, "x,y,label\n" + "0.5,0.5,1\n" * 4, max_points=3)
    assert said.endswith("line 5: more than 3 points (at most 3 can be loaded)")


def test_not_utf8_names_the_line(tmp_path):
    said = problem(tmp_path, b"x,y,label\n0.1,0.2,1\r\n0.3,\xff0.4,0\n")
    assert said.endswith("line 3: not UTF-8 text (byte 0xff at character 5); save the file as UTF-8 CSV")
    assert "line 1:" in problem(tmp_path, "x,y,label\n".encode("utf-16"))


def test_too_large_file_is_refused_before_reading(tmp_path):
    said = problem(tmp_path, "0.5,0.5,1\n" * 200, limit_bytes=1000)
    assert "too large for a points file (at most 1000 bytes)" in said


def test_a_folder_a_fifo_and_a_missing_file_are_refused_without_blocking(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(FileProblem, match="is a folder, not a points file"):
        read_points_csv(folder, 10)
    with pytest.raises(FileProblem, match="no such file"):
        read_points_csv(tmp_path / "missing.csv", 10)
    if not hasattr(os, "mkfifo"):
        return
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_points_csv(fifo, 10)
        except BaseException as error:  # handed to the test's thread
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert isinstance(outcome[0], FileProblem) and "is not a regular file" in str(outcome[0])


def test_bad_arguments(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("0.1,0.2,1\n")
    with pytest.raises(ValueError, match="max_points"):
        read_points_csv(path, 0)
    with pytest.raises(TypeError, match="max_points"):
        read_points_csv(path, 1.5)
    with pytest.raises(ValueError, match="limit_bytes"):
        read_points_csv(path, 1, limit_bytes=0)


# ---- fuzzing: hostile bytes give a FileProblem or valid points, never another exception -----------
def check_outcome(path, max_points: int = 50) -> None:
    try:
        read, notice = read_points_csv(path, max_points)
    except FileProblem as error:
        message = str(error)
        assert message.startswith(str(path)) and "\n" not in message.removeprefix(str(path))
        return
    assert 1 <= len(read) <= max_points and isinstance(notice, str)
    assert read.x.dtype == torch.float64 and bool(torch.isfinite(read.x).all())
    assert read.x.min() >= 0 and read.x.max() <= 1
    assert set(read.labels.tolist()) <= {0, 1}


@given(data=st.binary(max_size=400))
def test_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "points.csv"
    path.write_bytes(data)
    check_outcome(path)


csv_alphabet = st.sampled_from(list('0123456789.,;\t \n\r#-+eExylabelsplittrainTESTnaif"\ufeff\x00\u2028\x85'))


@given(text=st.text(csv_alphabet, max_size=300))
def test_random_csv_like_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "points.csv"
    path.write_bytes(text.encode("utf-8"))
    check_outcome(path)


number_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "1e999", "-0", ".5", "5.", "1,5", "abc", "0x10", "1_0", "١"]),
)


@given(
    lines=st.lists(
        st.tuples(number_text, number_text, st.sampled_from(["0", "1", "1.0", "2", "-1", "x"])), min_size=1, max_size=8
    ),
    header=st.booleans(),
)
def test_random_numbers(tmp_path_factory, lines, header):
    path = tmp_path_factory.mktemp("fuzz") / "points.csv"
    body = "\n".join(",".join(fields) for fields in lines)
    path.write_text(("x,y,label\n" if header else "") + body, encoding="utf-8")
    check_outcome(path)


# ---- Points ----------------------------------------------------------------------------------------
def test_points_checks_its_tensors():
    assert len(points([[0.1, 0.2]], [1])) == 1
    with pytest.raises(TypeError, match=r"x must be a floating tensor of shape \(n, 2\)"):
        Points(torch.zeros(3, 3), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(TypeError, match="x must be"):
        Points(torch.zeros(3, 2, dtype=torch.int64), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(TypeError, match=r"labels must be an int64 tensor of shape \(3,\)"):
        Points(torch.zeros(3, 2), torch.zeros(3))
    with pytest.raises(TypeError, match="is_test must be"):
        Points(torch.zeros(3, 2), torch.zeros(3, dtype=torch.int64), torch.zeros(3))
    with pytest.raises(ValueError, match="point 1 is not"):
        Points(torch.tensor([[0.0, 0.0], [math.nan, 0.0]]), torch.zeros(2, dtype=torch.int64))
    with pytest.raises(ValueError, match="point 0 has 2"):
        Points(torch.zeros(1, 2), torch.tensor([2]))


# ---- splitting -------------------------------------------------------------------------------------
def random_points(n: int, ones: int, seed: int = 0) -> Points:
    generator = torch.Generator().manual_seed(seed)
    labels = torch.zeros(n, dtype=torch.int64)
    labels[torch.randperm(n, generator=generator)[:ones]] = 1
    return Points(torch.rand(n, 2, generator=generator, dtype=torch.float64), labels)


def split_mask(points: Points, share: float, rng: np.random.Generator) -> torch.Tensor:
    return torch.from_numpy(random_split(len(points), share, rng))


def test_split_is_deterministic_given_the_generator():
    pts = random_points(100, 40)
    a = split_mask(pts, 0.3, np.random.default_rng(5))
    b = split_mask(pts, 0.3, np.random.default_rng(5))
    c = split_mask(pts, 0.3, np.random.default_rng(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    s, t = (split_points(pts, 0.3, np.random.default_rng(5)) for _ in range(2))
    assert all(torch.equal(getattr(s, f), getattr(t, f)) for f in ("x_train", "y_train", "x_test", "y_test"))


@given(n=st.integers(2, 300), ones_share=st.floats(0, 1), share=st.floats(0.0, 0.9), seed=st.integers(0, 99))
def test_split_draws_each_point_at_the_share_and_keeps_both_sets(n, ones_share, share, seed):
    pts = random_points(n, round(n * ones_share), seed)
    mask = split_mask(pts, share, np.random.default_rng(seed))
    n_test = int(mask.sum())
    drawn = np.random.default_rng(seed).random(n) < share  # the one draw: each point at the share
    changed = (mask.numpy() != drawn).nonzero()[0].tolist()
    assert changed in ([], [0], [n - 1])  # at most the first (all drawn) or the last (none) is moved
    assert 1 <= n_test <= n - 1
    for c in (0, 1):
        count = int((pts.labels == c).sum())
        in_test = int((mask & (pts.labels == c)).sum())
        if count and changed == []:  # not stratified: a class's test points are its drawn ones
            assert in_test == int((torch.from_numpy(drawn) & (pts.labels == c)).sum())
        if count:  # and never more than the class has
            assert 0 <= in_test <= count
    split = split_by_mask(pts, mask)
    assert len(split.y_test) == n_test and len(split.y_train) == n - n_test


def test_split_gives_a_split_the_trainer_runs():
    pts = random_points(60, 30)
    split = split_points(pts, 0.25, np.random.default_rng(0))
    assert isinstance(split, Split) and split.x_train.dtype == torch.float32
    n_test = int(split_mask(pts, 0.25, np.random.default_rng(0)).sum())
    assert (len(split.y_train), len(split.y_test)) == (60 - n_test, n_test) and 0 < n_test < 60
    assert split.x_train.shape == (60 - n_test, 2) and split.classes == 2
    train = pts.x[~split_mask(pts, 0.25, np.random.default_rng(0))]
    assert torch.equal(split.x_train, train.float())  # stored order kept
    assert split_points(pts, 0.25, np.random.default_rng(), dtype=torch.float64).x_test.dtype == torch.float64
    spec = Spec.from_dict(dict(layers=[{"type": "linear", "units": 4}, {"type": "relu"}], epochs=1))
    trainer = make_trainer(spec, data=split)
    assert trainer.run(1)
    assert math.isfinite(trainer.last_record.test_loss)


def test_two_points_split_one_and_one():
    mask = split_mask(points([[0.1, 0.1], [0.9, 0.9]], [0, 1]), 0.5, np.random.default_rng(0))
    assert int(mask.sum()) == 1
    mask = split_mask(points([[0.1, 0.1], [0.9, 0.9]], [0, 1]), 0.01, np.random.default_rng(0))
    assert int(mask.sum()) == 1  # at least one test point


def test_split_refuses_what_cannot_be_split():
    one = points([[0.5, 0.5]], [0])
    with pytest.raises(ValueError, match="need at least 2 points"):
        split_points(one, 0.5, np.random.default_rng())
    two = points([[0.1, 0.1], [0.9, 0.9]], [0, 1])
    for share in (0.95, 1.0, -0.1, math.nan):  # TEST_SHARE: 0 to 0.9
        with pytest.raises(ValueError, match="test_share"):
            split_points(two, share, np.random.default_rng())
    with pytest.raises(TypeError, match="test_share"):
        split_points(two, "0.5", np.random.default_rng())
    with pytest.raises(ValueError, match="the test set would be empty"):
        split_by_mask(two, torch.tensor([False, False]))
    with pytest.raises(ValueError, match="the training set would be empty"):
        split_by_mask(two, torch.tensor([True, True]))
    with pytest.raises(TypeError, match="is_test must be a bool tensor"):
        split_by_mask(two, torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="must be Points"):
        split_points(torch.zeros(2, 2), 0.5, np.random.default_rng())


def test_the_split_is_the_apps_draw_bit_for_bit():
    """`random_split` makes the calls the app made itself: `rng.random(n) < share`, then the two fixes."""
    for n, share, seed in ((1, 0.5, 0), (2, 0.0, 1), (5, 0.9, 2), (40, 0.2, 3), (3, 0.9, 7)):
        mine, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        expected = theirs.random(n) < share
        if n >= 2 and expected.all():
            expected[0] = False
        if n >= 2 and not expected.any():
            expected[-1] = True
        assert np.array_equal(random_split(n, share, mine), expected)
        assert mine.random() == theirs.random()  # the generators were left in the same state
    assert TEST_SHARE.default == 0.2 and (TEST_SHARE.low, TEST_SHARE.high) == (0.0, 0.9)
    assert random_split(4, 0.0, np.random.default_rng(0), keep_both=False).tolist() == [False] * 4


def test_a_split_read_from_a_file_is_used_as_it_is(tmp_path):
    read, _ = read_text(tmp_path, "x,y,label,split\n0.1,0.2,1,train\n0.3,0.4,0,test\n0.5,0.6,0,train\n")
    split = split_by_mask(read, read.is_test)
    assert split.y_train.tolist() == [1, 0] and split.y_test.tolist() == [0]
