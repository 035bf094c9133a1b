"""The architect investigating from the panel, in JupyterLab in headless Chromium, against a
scripted fake Messages API: the tool calls appear as they happen, a call that executes waits
for Allow or Deny with its exact SQL on screen, and the answer lands in the notebook."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .conftest import CHROMIUM, CHROMIUM_ARGS
from .fake_anthropic import FakeAnthropic, Scripted
from .test_browser import _run_all_cells, _wait_for_widget, jupyterlab  # noqa: F401

pytestmark = pytest.mark.browser

SQL = "SELECT id, status FROM orders WHERE user_id = :id"
PARAMS = {"id": 4242}


def _cells(url: str) -> list[str]:
    return [
        "import anthropic\nimport workbench as wb\ns = wb.connect()\n"
        f"client = anthropic.Anthropic(api_key='sk-ant-test-browser-000000', base_url={url!r})\n"
        f"panel = wb.ui.Workbench(s, architect=wb.Architect(client=client), sql={SQL!r}, "
        "params='{\"id\": 4242}')\npanel",
    ]


def _wait_text(page: Any, selector: str, text: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    current = ""
    while time.monotonic() < deadline:
        current = str(page.locator(selector).first.inner_text())
        if text in current:
            return current
        time.sleep(0.2)
    raise AssertionError(f"{selector} never showed {text!r}; it shows {current!r}")


@pytest.mark.timeout(600)
def test_allow_and_deny_in_the_architect_tab(jupyterlab: tuple[str, Path]) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    fake = FakeAnthropic()
    fake.script = [
        Scripted("Reading the plan first.", [("explain", {"sql": SQL, "params": PARAMS})]),
        Scripted("Measuring it.", [("profile", {"sql": SQL, "params": PARAMS, "runs": 20})]),
        Scripted("Measuring once more.", [("profile", {"sql": SQL, "params": PARAMS})]),
        Scripted("## Diagnosis\nOne scan.", [("report_findings", {"findings": []})]),
    ]
    url, work = jupyterlab
    (work / "01-quickstart.ipynb").unlink()
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in _cells(fake.url)]),
        work / "agent.ipynb",
    )
    url = url.replace("01-quickstart.ipynb", "agent.ipynb")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            _run_all_cells(page)
            _wait_for_widget(page, page.get_by_role("button", name="Explain", exact=True).first)
            page.get_by_role("tab", name="Architect").first.click()
            page.locator(".wb-investigate").first.click()

            # the plain EXPLAIN ran by itself; the profile waits, its SQL on screen
            approval = _wait_text(page, ".wb-approval", "The architect asks to run")
            assert "profile(runs=20)" in approval and SQL in approval
            answer = _wait_text(page, ".wb-answer", "waiting for you")
            assert "Reading the plan first." in answer and "[done]" in answer
            page.locator(".wb-allow button, button.wb-allow").first.click()

            # the second profile asks again (the first's request is gone from the box)
            approval = _wait_text(page, ".wb-approval", "profile() —")
            page.locator(".wb-deny button, button.wb-deny").first.click()

            answer = _wait_text(page, ".wb-answer", "One scan.", timeout=90)
            assert answer.count("[done]") == 2 and "[denied]" in answer
            assert "Tool calls" in answer
            assert not page.locator(".wb-approval").first.is_visible()
            python = str(page.locator(".wb-python").first.inner_text())
            assert "arch.investigate(ev, approve=wb.prompt_approval)" in python
            browser.close()
    finally:
        fake.close()
    second = fake.messages[2].body["messages"][-1]["content"][0]
    assert second["type"] == "tool_result" and '"runs": 20' in second["content"]
    third = fake.messages[3].body["messages"][-1]["content"][0]
    assert "denied by the person" in third["content"]
