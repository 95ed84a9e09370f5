"""Counting the times a column reader hands a file over to the careful reader."""

from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

import pytest

from cowans.sources import csv_batches


@dataclass
class HandOvers:
    count: int = 0


def count_hand_overs(monkeypatch: pytest.MonkeyPatch, reader: ModuleType) -> HandOvers:
    """Wrap `reader.read_columns` (etilize_columns or xorosoft_columns) to count hand-overs."""
    seen = HandOvers()
    read_columns = reader.read_columns

    def counted(*args: object) -> Iterator[object]:
        try:
            yield from read_columns(*args)
        except csv_batches.HandOver:
            seen.count += 1
            raise

    monkeypatch.setattr(reader, "read_columns", counted)
    return seen
