"""Read ChannelAttribution's path file: `path;total_conversions;total_conversion_value;total_null`.

Channels in a path are joined by " > ". A header row, a byte-order mark, blank lines and
surrounding spaces are tolerated; identical paths on several lines are merged. Any other bad
row raises `PathFileError` naming its line number, and nothing is read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from closedloop.analytics.engine.journeys import Journeys, aggregate_paths, journeys_from_paths

SEPARATOR = " > "
HEADER = ("path", "total_conversions", "total_conversion_value", "total_null")


class PathFileError(ValueError):
    """A row of a path file that cannot be read; the message names its line."""


def read_path_lines(lines: Iterable[str]) -> Journeys:
    """Parse path-file lines (text, with or without line ends) into aggregated `Journeys`."""
    paths: list[list[str]] = []
    numbers: list[tuple[float, float, float]] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.lstrip("\ufeff").strip() if number == 1 else raw.strip()
        if not line or (not paths and _is_header(line)):
            continue
        path, figures = _parse_row(line, number)
        paths.append(path)
        numbers.append(figures)
    if not paths:
        raise PathFileError("the path file has no rows")
    conv, value, null = zip(*numbers, strict=True)
    return aggregate_paths(journeys_from_paths(paths, conv, value, null))


def _is_header(line: str) -> bool:
    cells = tuple(cell.strip().lower() for cell in line.split(";"))
    return cells == HEADER


def _parse_row(line: str, number: int) -> tuple[list[str], tuple[float, float, float]]:
    cells = line.split(";")
    if len(cells) != 4:
        raise PathFileError(
            f"line {number}: expected 4 fields separated by ';' "
            f"(path;total_conversions;total_conversion_value;total_null), found {len(cells)}"
        )
    path = [name.strip() for name in cells[0].split(">")]
    if any(not name for name in path):
        raise PathFileError(f"line {number}: the path has an empty channel name: {cells[0]!r}")
    figures = tuple(_number(cell, HEADER[i + 1], number) for i, cell in enumerate(cells[1:]))
    return path, figures  # type: ignore[return-value]


def _number(cell: str, name: str, number: int) -> float:
    try:
        found = float(cell.strip())
    except ValueError:
        raise PathFileError(f"line {number}: {name} is not a number: {cell.strip()!r}") from None
    if not math.isfinite(found) or found < 0:
        raise PathFileError(f"line {number}: {name} must be a finite number >= 0, not {cell!r}")
    return found
