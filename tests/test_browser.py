"""JupyterLab in a real browser: the quickstart notebook run, the panel rendered and clicked.

JupyterLab is started on loopback with a token; Debian's Chromium is driven headless through
Playwright (never a downloaded browser). A screenshot is kept in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, require

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    require(Path(CHROMIUM).exists(), "Debian's chromium at /usr/bin/chromium")
    work = tmp_path / "lab"
    work.mkdir()
    shutil.copy(ROOT / "notebooks" / "01-quickstart.ipynb", work)
    settings = tmp_path / "settings"
    for plugin, values in (
        ("notebook-extension/tracker", {"windowingMode": "none", "autoStartDefaultKernel": True}),
        ("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False}),
    ):
        target = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    port, token = _free_port(), "wb-test-token"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--notebook-dir={work}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, cwd=work, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        pytest.fail(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-2000:]}")
    try:
        yield f"{url}/lab/tree/01-quickstart.ipynb?token={token}", work
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _run_all_cells(page: Any, timeout_s: float = 300.0) -> None:
    """Run > Run All Cells until every cell has run.

    JupyterLab can report "idle" a moment before the kernel connection is usable, ask which
    kernel to start despite the setting, or replace the kernel it first started (the cells queued
    on the first one are then lost and stay ``[ ]``). So: whenever the kernel is idle, nothing is
    queued and cells are still unrun for a while, Run All again (four times at most; the quickstart
    runs top to bottom any number of times).
    """
    prompts = (
        "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]"
        ".map(p => p.textContent.trim())"
    )
    deadline = time.monotonic() + timeout_s
    attempts = 0
    unrun_since: float | None = None
    while time.monotonic() < deadline:
        select_kernel = page.get_by_role("button", name="Select", exact=True)
        if select_kernel.is_visible():
            select_kernel.click()
            time.sleep(1)
            continue
        if _no_kernel(page):  # JupyterLab shut down the kernel it had started: start one
            _start_kernel(page)
            unrun_since = None
            continue
        shown = page.evaluate(prompts)
        if shown and all(re.fullmatch(r"\[\d+\]:?", p) for p in shown):
            return
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count() > 0
        queued = any("*" in p for p in shown)
        if not idle or queued:
            unrun_since = None
        elif unrun_since is None:
            unrun_since = time.monotonic()
        if unrun_since is not None and (attempts == 0 or time.monotonic() - unrun_since > 15):
            if attempts == 4:
                break
            attempts += 1
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            unrun_since = None
        time.sleep(1)
    raise AssertionError(f"the notebook did not run to the end ({attempts} Run All)")


def _no_kernel(page: Any) -> bool:
    name = page.locator(".jp-NotebookPanel-toolbar .jp-KernelName")
    return name.count() > 0 and name.first.inner_text().strip() == "No Kernel"


def _start_kernel(page: Any) -> None:
    """Pick Python in the kernel dialog the toolbar's kernel name opens."""
    page.locator(".jp-NotebookPanel-toolbar .jp-KernelName").first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=15_000)
    choices = dialog.locator("select")
    if choices.count():
        labels = choices.first.locator("option").all_inner_texts()
        python = next((label for label in labels if "Python" in label), None)
        if python is not None:
            choices.first.select_option(label=python)
    dialog.locator("button.jp-mod-accept").click()
    time.sleep(2)


def _wait_for_widget(page: Any, button: Any) -> None:
    """Wait for the panel's view. When JupyterLab's first connection to the kernel closed early
    (jupyter_server's "'NoneType' object has no attribute 'kernel_ws_protocol'" race,
    jupyter-server/jupyter_server#1265), the cells run on the connection it opens next but the
    widget manager can stay bound to the closed one, and no widget view renders. Saving and
    reloading the page rebinds it: ipywidgets restores the views from the live kernel."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        button.wait_for(timeout=60_000)
        return
    except PlaywrightTimeout:
        pass
    page.keyboard.press("Control+s")
    time.sleep(2)
    page.reload()
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    button.wait_for(timeout=90_000)


# its own waits (at most 300 s for the notebook, then the panel's) end first, so a slow run
# fails with what the page showed rather than a bare timeout
@pytest.mark.timeout(720)
def test_quickstart_runs_in_jupyterlab_and_the_panel_works(jupyterlab: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    url, work = jupyterlab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector(".jp-Notebook", timeout=90_000)
            _run_all_cells(page)
            # the panel renders (ipywidgets in JupyterLab 4)
            button = page.get_by_role("button", name="Explain Analyze")
            _wait_for_widget(page, button)
            # every cell ran without an error
            page.wait_for_function(
                "() => { const p = [...document.querySelectorAll("
                "'.jp-CodeCell .jp-InputArea-prompt')];"
                " return p.length > 0 && p.every(x => /\\[\\d+\\]/.test(x.textContent)); }",
                timeout=240_000,
            )
            assert (
                page.locator(
                    ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter"
                    ".stderr'] .ansi-red-fg"
                ).count()
                == 0
            )
            assert page.get_by_text("Traceback").count() == 0
            # a click in the panel: the plan tree appears inside the widget
            button.click()
            panel_plan = page.locator(".wbpv .wbpv-tree")
            panel_plan.first.wait_for(timeout=90_000)
            assert "Seq Scan on orders" in panel_plan.first.inner_text()
            # charts render as images (the figure shows itself, no pyplot needed)
            assert page.locator(".jp-RenderedImage img").count() >= 1
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-quickstart.png"), full_page=True)
        except Exception as exc:
            # keep what the page showed, so a red CI run can be understood
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-failure.png"), full_page=True)
            prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            lab_log = (work.parent / "lab.log").read_text(errors="replace")[-3000:]
            raise AssertionError(
                f"{exc}\nprompts: {prompts}\nlast outputs: {outputs[-3:]}\nlab log: {lab_log}"
            ) from None
        finally:
            browser.close()
    assert (ARTIFACTS / "jupyterlab-quickstart.png").stat().st_size > 10_000
    assert list((work / "investigations").glob("*/investigation.json"))
