"""Browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright."""

import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A browser set up in Kosovo: Albanian first, as the staff who use Streha have it.
    return {**browser_context_args, "locale": "sq-AL"}


@pytest.fixture
def demo_staff(transactional_db):
    """The demo agencies and staff, as `make run` loads them (no persons needed)."""
    from streha.demo import generator

    return generator.ensure_agencies_and_staff()[1]
