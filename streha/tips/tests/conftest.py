import pytest

from streha.tips import abuse


@pytest.fixture
def one_rate_day(monkeypatch):
    """One day's key for the per-address rate counts for the whole test: a test whose requests
    straddle midnight (UTC) would otherwise see its counts restart."""
    day_key = abuse._daily_key()
    monkeypatch.setattr(abuse, "_daily_key", lambda: day_key)
