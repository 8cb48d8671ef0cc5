"""Browser tests: the real server (``dosing demo`` then ``dosing serve`` on a SQLite file, on a
free loopback port) driven by Debian's headless Chromium through Playwright. Playwright's own
browser downloads are never used. Without /usr/bin/chromium these tests are skipped, saying how
to install it, unless DOSING_REQUIRE_CHROMIUM is set (.ci/run sets it): then they fail."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("DOSING_CHROMIUM", "/usr/bin/chromium"))
REPO = Path(__file__).resolve().parents[2]
VIEWPORTS = {"phone": (390, 844), "laptop": (1366, 900)}
"""The screens every page must fit: a phone held upright and a laptop."""
INSTALL_HINT = (
    f"Chromium not found at {CHROMIUM}; browser tests need Debian's packages: "
    "sudo apt-get install -y chromium chromium-driver (./dev.sh test installs them)"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist (``--dist loadgroup``) every browser test runs on one worker, so the demo
    server and Chromium start once, not once per worker."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.xdist_group("browser"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dosing(*args: str) -> list[str]:
    return [sys.executable, "-m", "scheduler", *args]


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of the demo trial's database the server serves (tests may add to it with
    ``dosing`` commands before they load a page)."""
    if not CHROMIUM.exists():
        if os.environ.get("DOSING_REQUIRE_CHROMIUM"):  # CI: a skip would hide the tests
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}"
    env = {**os.environ, "DOSING_USER": "browser-setup"}
    subprocess.run(_dosing("demo", "--db", url), cwd=REPO, env=env, check=True, capture_output=True)
    return url


def dosing(url: str, *args: str) -> str:
    """Run a ``dosing`` command on the demo database; its standard output."""
    env = {**os.environ, "DOSING_USER": "browser-setup"}
    done = subprocess.run(
        _dosing(*args, "--db", url), cwd=REPO, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


@pytest.fixture(scope="session")
def server(demo_db: str) -> Iterator[str]:
    """The base URL of a server on the demo trial, placed relative to today."""
    url = demo_db
    env = {**os.environ, "DOSING_USER": "browser-setup"}
    port = _free_port()
    process = subprocess.Popen(
        _dosing("serve", "--db", url, "--host", "127.0.0.1", "--port", str(port)),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                _, err = process.communicate()
                raise RuntimeError(f"the server did not start: {err.decode()[-2000:]}") from None
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(server: str) -> Iterator[object]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is a dev dependency: pip install -e '.[dev]'"
    )
    sync_playwright = sync_api.sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def log_in_as(browser, server):
    """``log_in_as("demo-nurse")``: a fresh browser page logged in through the login form."""
    contexts = []

    def log_in(name: str, password: str = "demo-password"):
        context = browser.new_context(base_url=server)
        contexts.append(context)
        page = context.new_page()
        page.goto("/")
        assert "/login" in page.url
        page.get_by_label("User name").fill(name)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{server}/")
        return page

    yield log_in
    for context in contexts:
        context.close()


@pytest.fixture(params=sorted(VIEWPORTS))
def screen(request) -> dict[str, int]:
    """Each test that asks for it runs once per screen size of ``VIEWPORTS``."""
    width, height = VIEWPORTS[request.param]
    return {"width": width, "height": height}


@pytest.fixture
def sized_login(screen, browser, server):
    """``sized_login("demo-nurse")``: a page at this test's screen size, logged in. The
    context bypasses the page's Content-Security-Policy only so that the test may inject
    axe-core; the app's own scripts are unaffected."""
    contexts = []

    def log_in(name: str):
        context = browser.new_context(base_url=server, viewport=screen, bypass_csp=True)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("User name").fill(name)
        page.get_by_label("Password").fill("demo-password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{server}/")
        return page

    yield log_in
    for context in contexts:
        context.close()
