"""`closedloop attribution` on path files: totals kept, tolerant reading, errors by line."""

import json

import pytest
from typer.testing import CliRunner

from closedloop.cli import app

runner = CliRunner()

ROWS = (
    "\ufeffpath;total_conversions;total_conversion_value;total_null\n"
    "\n"
    "email > search > email;3;300.5;7\n"
    "display;0;0;12\n"
    "search;2;80;3\n"
    "\n"
    "search > display > email > email;1;45;2\n"
    "search;1;20;0\n"
)


@pytest.fixture
def path_file(tmp_path):
    path = tmp_path / "paths.csv"
    path.write_text(ROWS, encoding="utf-8")
    return path


def run(*args):
    return runner.invoke(app, ["attribution", *map(str, args)])


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        ("first", []),
        ("last", []),
        ("linear", []),
        ("time_decay", ["--half-life", "2"]),
        ("u_shaped", []),
        ("u_shaped_marketo", []),
        ("w_shaped", []),
        ("full_path", []),
        ("j_shaped", []),
        ("inverse_j", []),
        ("markov", []),
        ("markov", ["--order", "3"]),
        ("shapley", []),
        ("shapley", ["--characteristic", "rate"]),
    ],
)
def test_every_model_prints_channels_whose_conversions_add_up_to_the_files_total(
    path_file, model, extra
):
    result = run("--paths", path_file, "--model", model, *extra)
    assert result.exit_code == 0, result.output
    credits = json.loads(result.output)
    assert set(credits) == {"email", "search", "display"}
    assert sum(c["conversions"] for c in credits.values()) == pytest.approx(7)
    assert sum(c["value"] for c in credits.values()) == pytest.approx(445.5)


def test_last_touch_on_the_file_gives_the_hand_counted_figures(path_file):
    credits = json.loads(run("--paths", path_file, "--model", "last").output)
    assert credits["email"] == {"conversions": 4.0, "value": 345.5}
    assert credits["search"] == {"conversions": 3.0, "value": 100.0}
    assert credits["display"] == {"conversions": 0.0, "value": 0.0}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("email > search;1;10", "line 3: expected 4 fields"),
        ("email > > search;1;10;2", "line 3: the path has an empty channel name"),
        ("email;one;10;2", "line 3: total_conversions is not a number: 'one'"),
        ("email;1;10;-2", "line 3: total_null must be a finite number >= 0"),
    ],
)
def test_a_bad_row_is_refused_with_its_line_number(tmp_path, row, message):
    path = tmp_path / "bad.csv"
    path.write_text(
        f"path;total_conversions;total_conversion_value;total_null\nsearch;1;2;3\n{row}\n"
    )
    result = run("--paths", path, "--model", "linear")
    assert result.exit_code == 2
    assert message in " ".join(result.output.split()).replace("│ ", "").replace(" │", "")


def test_an_unknown_model_and_a_missing_file_are_refused(path_file, tmp_path):
    assert run("--paths", path_file, "--model", "z_shaped").exit_code == 2
    assert run("--paths", tmp_path / "missing.csv", "--model", "first").exit_code == 2
    empty = tmp_path / "empty.csv"
    empty.write_text("path;total_conversions;total_conversion_value;total_null\n\n")
    assert run("--paths", empty, "--model", "first").exit_code == 2
