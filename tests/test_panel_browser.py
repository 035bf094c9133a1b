"""The panel driven as a person drives it, in JupyterLab in headless Chromium: explain, profile
twice, compare, a different statement, compare again, an error, Stop during a long profile,
export. After each step the tabs show what belongs to the statement, and nothing else; then
every Python line the panel showed runs in a fresh kernel and gives the same kinds of result.
The plan view's screenshots (a 13-node parallel plan and a 301-node plan, light and dark) are
taken here; with ``WORKBENCH_UPDATE_SCREENSHOTS=1`` they replace the README's.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT
from .test_browser import _run_all_cells, _wait_for_widget, jupyterlab  # noqa: F401

pytestmark = pytest.mark.browser

POINT = "SELECT id, status, total_cents, created_at FROM orders WHERE user_id = :id"
OTHER = "SELECT count(*) AS n FROM users WHERE id < :id"
PARALLEL = (
    "SELECT a.plan, count(*), avg(o.total_cents) FROM accounts a "
    "JOIN users u ON u.account_id = a.id JOIN orders o ON o.user_id = u.id "
    "GROUP BY a.plan ORDER BY 2 DESC LIMIT 3"
)
LARGE = " UNION ALL ".join(f"(SELECT id FROM users WHERE id = {i} LIMIT 1)" for i in range(1, 151))
CELLS = [
    "import workbench as wb\ns = wb.connect()\n"
    "panel = wb.ui.Workbench(s, title='Browser walk-through')\npanel",
    f"parallel = s.explain({PARALLEL!r}, analyze=True)\nprint(len(parallel.nodes), 'nodes')\n"
    "wb.ui.PlanView.of(parallel)",
    f"large = s.explain({LARGE!r}, analyze=True)\nprint(len(large.nodes), 'nodes')\n"
    "wb.ui.PlanView.of(large)",
]


class Panel:
    """The panel on the page, in a person's terms."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def status(self) -> str:
        return str(self.page.locator(".wb-status").first.inner_text())

    def python(self) -> str:
        return str(self.page.locator(".wb-python").first.inner_text())

    def wait_status(self, text: str, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = self.status()
            if text in current:
                return current
            time.sleep(0.2)
        raise AssertionError(f"the status never said {text!r}; it says {self.status()!r}")

    def statement(self, sql: str, params: str) -> None:
        self.page.locator(".wb-sql textarea").first.fill(sql)
        field = self.page.locator(".wb-params input").first
        field.fill(params)
        field.press("Tab")  # ipywidgets syncs a Text on change

    def runs(self, count: int) -> None:
        field = self.page.locator(".wb-runs input").first
        field.fill(str(count))
        field.press("Tab")

    def click(self, name: str) -> None:
        """Click, and wait until the status line has moved on from what it said before (a
        second "profile done" must not be taken for the first)."""
        before = self.status()
        self.page.get_by_role("button", name=name, exact=True).first.click()
        deadline = time.monotonic() + 10
        while self.status() == before and time.monotonic() < deadline:
            time.sleep(0.05)

    def tab(self, name: str) -> str:
        self.page.get_by_role("tab", name=name).first.click()
        time.sleep(0.3)
        contents = self.page.locator(".widget-tab-contents").first.locator(":scope > *:visible")
        return str(contents.first.inner_text())


def _replay(lines: list[str], work: Path) -> dict[str, str]:
    """Every line in a fresh kernel, after the notebook's own setup: the type of each result."""
    setup = "import os\nimport workbench as wb\ns = wb.connect()\ninv = wb.Investigation('replay')"
    probe = (
        "import json\nprint(json.dumps({k: type(v).__name__ for k, v in globals().items() "
        "if k in ('plan', 'findings', 'comparison', 'answer', 'ev', 'arch') or "
        "k.startswith('prof_')}))"
    )
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in [setup, *lines, probe]]
    )
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    ).execute()  # a line that fails raises here
    return dict(json.loads(notebook.cells[-1].outputs[0]["text"]))


def _screenshots(page: Any, theme: str, destination: Path) -> None:
    for index, name in ((1, "parallel"), (2, "large")):
        view = page.locator(".jp-CodeCell").nth(index).locator(".wbpv")
        view.first.wait_for(timeout=60_000)
        view.first.screenshot(path=str(destination / f"plan-view-{name}-{theme}.png"))


@pytest.mark.timeout(900)
def test_a_person_drives_the_panel(jupyterlab: tuple[str, Path]) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    url, work = jupyterlab
    (work / "01-quickstart.ipynb").unlink()
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS]),
        work / "walk.ipynb",
    )
    url = url.replace("01-quickstart.ipynb", "walk.ipynb")
    ARTIFACTS.mkdir(exist_ok=True)
    update = os.environ.get("WORKBENCH_UPDATE_SCREENSHOTS") == "1"
    shots = ROOT / "docs" / "images" if update else ARTIFACTS
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            page.goto(url)
            page.wait_for_selector(".jp-Notebook", timeout=90_000)
            _run_all_cells(page)
            _wait_for_widget(page, page.get_by_role("button", name="Explain Analyze"))
            panel = Panel(page)

            # 1. explain: the plan, its findings (right away) and its line
            panel.statement(POINT, '{"id": 4242}')
            panel.click("Explain Analyze")
            panel.wait_status("explain done")
            assert "plan = s.explain(" in panel.python()
            assert "Seq Scan on orders" in panel.tab("Plan")
            findings = panel.tab("Findings")
            assert "No findings yet" not in findings and "CREATE INDEX" in findings

            # 2. profile twice, compare
            panel.runs(100)
            panel.click("Profile")
            panel.wait_status("profile done")
            assert "prof_1 = s.profile(" in panel.python()
            assert page.locator(".wb-charts img").count() == 3
            panel.click("Profile")
            panel.wait_status("profile done")
            panel.click("Compare")
            panel.wait_status("compare done")
            assert "comparison = prof_1.compare(prof_2)" in panel.python()
            charts = panel.tab("Charts")
            assert "prof_1 → prof_2" in charts
            verdict = charts.split("prof_1 → prof_2: ", 1)[1].splitlines()[0]

            # 3. a different statement: what belonged to the first one is gone
            panel.statement(OTHER, '{"id": 100}')
            panel.click("Profile")
            panel.wait_status("profile done")
            assert "No plan yet" in panel.tab("Plan")
            assert "orders" not in panel.tab("Findings")
            panel.tab("Charts")
            page.locator(".wb-compare-before select").first.select_option(index=1)  # prof_2
            page.locator(".wb-compare-after select").first.select_option(index=2)  # prof_3
            time.sleep(0.5)
            panel.click("Compare")
            refused = panel.wait_status("different statements")
            assert "⚠" in refused and "prof_2" in refused and "prof_3" in refused

            # 4. an error: a readable message, the panel goes on
            panel.statement("SELEC 1", "")
            panel.click("Explain")
            error = panel.wait_status("syntax")
            assert "⚠" in error and "Traceback" not in error

            # 5. Stop during a long profile: progress while it runs, what was kept after
            panel.statement("SELECT pg_sleep(0.02)", "")
            panel.runs(300)
            panel.click("Profile")
            running = panel.wait_status("runs", timeout=30)
            assert "Running profile" in running and " of 300 runs" in running
            assert page.get_by_role("button", name="Explain", exact=True).first.is_disabled()
            panel.click("Stop")
            stopped = panel.wait_status("Stopped", timeout=30)
            assert "stopped after" in stopped and "prof_4" in stopped
            assert page.get_by_role("button", name="Stop", exact=True).first.is_disabled()

            # 6. export: a link, and the report holds what the tabs showed
            panel.statement(POINT, '{"id": 4242}')
            panel.click("Explain Analyze")
            panel.wait_status("explain done")
            shown = panel.tab("Findings")
            panel.click("Export")
            written = panel.wait_status("Report written")
            href = page.locator(".wb-status a").first.get_attribute("href")
            report = (work / str(href)).read_text()
            assert verdict.split(" (")[0] in report
            assert "No findings were recorded" not in report
            title = next(line for line in shown.splitlines() if "orders" in line)
            assert title.split(":")[0].strip() in report
            assert "report.html" in written

            # 7. every line the panel showed runs in a fresh kernel
            history = page.locator(".wb-history pre").first.inner_text()
            _screenshots(page, "light", shots)
            page.locator(".lm-MenuBar-item", has_text="Settings").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
            page.locator(".lm-Menu-itemLabel", has_text="JupyterLab Dark").first.click()
            page.wait_for_selector(
                "body[data-jp-theme-light='false']", state="attached", timeout=30_000
            )
            time.sleep(1)
            _screenshots(page, "dark", shots)
        except Exception as exc:
            page.screenshot(path=str(ARTIFACTS / "panel-failure.png"), full_page=True)
            tabs = page.evaluate(
                "() => { const t = document.querySelector('.widget-tab');"
                " return t ? t.outerHTML.slice(0, 3000) : 'no .widget-tab'; }"
            )
            raise AssertionError(f"{exc}\nstatus: {Panel(page).status()!r}\ntab: {tabs}") from exc
        finally:
            browser.close()
    blocks = [b for b in history.split("\n\n") if b.strip()]
    lines = _lines(history)
    assert any(line.startswith("# failed:") for line in history.splitlines()), blocks
    types = _replay(lines, work)
    assert types["plan"] == "Plan" and types["comparison"] == "Comparison"
    assert {types[f"prof_{i}"] for i in range(1, 5)} == {"Profile"}
    for name in ("parallel", "large"):
        for theme in ("light", "dark"):
            assert (shots / f"plan-view-{name}-{theme}.png").stat().st_size > 5_000
    if not update:
        shutil.copy(shots / "plan-view-parallel-light.png", ARTIFACTS / "latest-plan-view.png")


def _lines(history: str) -> list[str]:
    """The History tab's lines that ran (a failed one is kept as a comment), each a cell."""
    cells: list[str] = []
    for line in history.splitlines():
        if not line.strip() or line.startswith("# failed:") or line.startswith("# nothing"):
            continue
        if line.startswith((" ", "\t")) and cells:  # the body of a with-block
            cells[-1] += "\n" + line
        else:
            cells.append(line)
    return cells
