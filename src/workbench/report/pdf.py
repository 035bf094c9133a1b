"""The PDF report: the HTML report printed by headless Chromium.

Playwright drives it where its Python package is installed (``page.pdf``, every request but
the page itself refused); otherwise ``chromium --headless --print-to-pdf`` does. Chromium is
found on the ``PATH`` (``chromium``, ``chromium-browser``, ``google-chrome``), or named by
``chromium=`` / ``WORKBENCH_CHROMIUM``. Nothing is ever downloaded: without a browser the
export says so with a :class:`~workbench.errors.ConfigurationError`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from workbench.errors import ConfigurationError

__all__ = ["find_chromium", "write_pdf"]

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-extensions",
]


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium executable to use, or ``None``."""
    for candidate in (explicit, os.environ.get("WORKBENCH_CHROMIUM")):
        if candidate:
            found = shutil.which(candidate)
            if found is None:
                raise ConfigurationError(
                    f"no Chromium at {candidate}",
                    hint="pass the path of a chromium or chrome executable",
                )
            return found
    return next((path for name in _NAMES if (path := shutil.which(name))), None)


def _args() -> list[str]:
    # Chromium refuses to start as root inside its sandbox; the page runs no script anyway
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    return [*_ARGS, "--no-sandbox"] if root else list(_ARGS)


def write_pdf(
    html: str, target: Path, *, chromium: str | None = None, timeout: float = 120.0
) -> Path:
    """Print ``html`` to ``target`` (A4, backgrounds on)."""
    executable = find_chromium(chromium)
    with tempfile.TemporaryDirectory(prefix="workbench-pdf-") as scratch:
        page = Path(scratch) / "report.html"
        page.write_text(html, encoding="utf-8")
        output = Path(scratch) / "report.pdf"
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            if executable is None:
                raise _no_browser() from None
            _print_with_cli(executable, page, output, timeout)
        else:
            # the sync API refuses to run inside an asyncio loop (a Jupyter kernel): a thread
            # of its own has none
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(_print_with_playwright, executable, page, output, timeout).result()
        if not output.is_file() or output.stat().st_size == 0:
            raise ConfigurationError("Chromium wrote no PDF", hint="export .html and print it")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(output), target)
    return target


def _print_with_playwright(
    executable: str | None, page_path: Path, output: Path, timeout: float
) -> None:
    from playwright.sync_api import Error, sync_playwright

    url = page_path.as_uri()
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=executable, args=_args())
        except Error as exc:
            if executable is None:
                raise _no_browser() from None
            raise ConfigurationError(
                f"Chromium did not start: {str(exc).splitlines()[0]}",
                hint="check the chromium executable, or export .html and print it",
            ) from None
        try:
            page = browser.new_page()
            page.route(
                "**/*",
                lambda route: route.continue_() if route.request.url == url else route.abort(),
            )
            page.goto(url, wait_until="load", timeout=timeout * 1000)
            page.emulate_media(media="print")
            page.pdf(
                path=str(output),
                format="A4",
                print_background=True,
                margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"},
            )
        finally:
            browser.close()


def _print_with_cli(executable: str, page_path: Path, output: Path, timeout: float) -> None:
    command = [
        executable,
        "--headless",
        *_args(),
        "--no-pdf-header-footer",
        f"--print-to-pdf={output}",
        page_path.as_uri(),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ConfigurationError(
            f"Chromium did not finish the PDF in {timeout:.0f} s", hint="export .html instead"
        ) from None
    if done.returncode != 0:
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no message"]
        raise ConfigurationError(
            f"Chromium could not print the report: {tail[0]}",
            hint="export .html and print it from a browser",
        )


def _no_browser() -> ConfigurationError:
    return ConfigurationError(
        "PDF export needs Chromium, and none was found",
        hint="install it (Debian/Ubuntu: apt install chromium), point WORKBENCH_CHROMIUM at "
        "a chrome or chromium executable, or export .html and print it from a browser",
    )
