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


# --- Accessibility and console checks, on every page a browser test visits ------------------

SERIOUS = {"serious", "critical"}


def watch(page):
    """Collect the page's CSP violations and script errors from now on, across navigations.

    Chromium reports a refused inline style or script as a console error naming the Content
    Security Policy; an uncaught exception is a page error. Both break the page for its users.
    """
    problems: list[str] = []

    def on_console(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"CSP: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page._streha_problems = problems
    return page


def new_page(browser, locale="sq-AL", **context_args):
    """A new window (its own cookies) whose console is watched, as every browser test needs."""
    return watch(browser.new_context(locale=locale, **context_args).new_page())


def check_page(page):
    """Fail on any serious or critical axe-core violation, and on any CSP or script error so far.

    Every browser test calls this on every page it visits (and after in-page updates), so a
    page that regresses in accessibility or breaks the CSP fails the test that reaches it.
    """
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state()
    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(node["target"][:1]) for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]
    assert not serious, f"axe on {page.url}:\n" + "\n".join(serious)
    problems = getattr(page, "_streha_problems", None)
    assert problems is not None, "open pages with new_page() or the page fixture (watched)"
    assert not problems, f"console on {page.url}:\n" + "\n".join(problems)


@pytest.fixture
def page(page):
    """pytest-playwright's page, with its console watched."""
    return watch(page)
