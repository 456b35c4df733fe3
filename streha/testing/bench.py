"""The benchmark scripts' own modules (``bench/``), imported by the tests that check them."""

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


@contextmanager
def bench_modules(monkeypatch, *names: str) -> Iterator[list]:
    """The modules ``names`` of ``bench/``, imported; forgotten afterwards (with the
    ``_common`` they import), so that the next test imports them afresh and no other test sees
    them or their settings."""
    monkeypatch.syspath_prepend(str(BENCH))
    try:
        yield [importlib.import_module(name) for name in names]
    finally:
        for name in (*names, "_common"):
            sys.modules.pop(name, None)
