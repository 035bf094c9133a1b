"""Reports: one self-contained HTML file, Markdown with its images, PDF; hostile names inert.

The investigation is recorded on a real SQLite database whose table is called
``<img src=x onerror=alert(1)>`` and whose query carries ``</script><script>alert(2)</script>``
(a column alias and a string literal); the architect's answer is a hostile model's Markdown.
The HTML report is opened in headless Chromium (Debian's, through Playwright) with every
request but the page itself refused.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from markupsafe import escape
from matplotlib.figure import Figure

import workbench as wb
from workbench.errors import ConfigurationError
from workbench.findings import Finding
from workbench.profiling.sweep import Sweep
from workbench.report.markdown import code_span, fence, md_cell, md_text, neutralise

from .conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, require

TABLE = "<img src=x onerror=alert(1)>"
ALIAS = "</script><script>alert(2)</script>"
MARK = "<svg onload=\"window.__x='pwned'\">"
SQL = f'SELECT id, v AS "{ALIAS}" FROM "{TABLE}" WHERE v <> \'{ALIAS}\''
MODEL_MARKDOWN = f"""## Why it is slow

**{TABLE}** is read in full. <script>window.__x='pwned'</script>

[details](javascript:alert(3)) ![tracker](https://example.com/t.png) <{ALIAS}>

```sql
SELECT 1 -- {ALIAS}
```

<img src=x onerror="window.__x='pwned'">
"""


@dataclasses.dataclass
class Recorded:
    inv: wb.Investigation
    html: Path
    markdown: Path
    plan_label: str


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """A whole investigation on a hostile SQLite table, exported as HTML and Markdown."""
    base = tmp_path_factory.mktemp("report")
    s = wb.connect(f"sqlite:///{base / 'hostile.sqlite'}")
    with s.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE TABLE "{TABLE}" (id INTEGER PRIMARY KEY, v TEXT)')
        conn.exec_driver_sql(
            f'INSERT INTO "{TABLE}" (v) SELECT hex(randomblob(8)) FROM (WITH RECURSIVE '
            "r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 3000) SELECT i FROM r)"
        )
    inv = wb.Investigation(
        f"Slow {TABLE}",
        folder=base / "inv",
        session=s,
        summary=f"Summary with {MARK} and `{ALIAS}`",
    )
    plan = s.explain(SQL, analyze=True)
    inv.record(plan, note=f"The note: {MARK}")
    before = s.profile(SQL, runs=40, warmup=3)
    inv.record(before)
    with s.capture() as cap:
        for i in range(6):
            s.query(f'SELECT * FROM "{TABLE}" WHERE id = :i', params={"i": i})
    inv.record(cap)
    evidence = s.evidence(SQL, plan=plan, profile=before, capture=cap)
    inv.record(evidence)
    findings = wb.analyze(evidence)
    assert findings, "the capture holds an N+1"
    inv.record(findings)
    hostile = Finding(
        code="missing_index",
        severity="high",
        title=f"{TABLE} is scanned",
        fix=f'CREATE INDEX ix ON "{TABLE}" (v)',
        expected_effect=ALIAS,
        evidence={"table": TABLE},
        source="architect",
    )
    inv.record(
        wb.Answer(
            markdown=MODEL_MARKDOWN,
            findings=[hostile],
            model="claude-test",
            usage={"input_tokens": 1200, "output_tokens": 300},
        )
    )
    inv.record(s.try_fix(f'CREATE INDEX ix ON "{TABLE}" (v)', sql=SQL))
    after = s.profile(SQL, runs=40, warmup=3)
    inv.record(before.compare(after))
    inv.record(Sweep(SQL, [before, dataclasses.replace(after, concurrency=2)]))
    figure = Figure()
    figure.add_subplot().plot([1, 3, 2])
    figure.axes[0].set_title(f"{TABLE} costs $1 and $2")
    inv.record(figure)
    inv.record(pd.DataFrame({"name": [TABLE, MARK], "rows": [1, 2]}))
    inv.note(f"Conclusion: {MARK} {ALIAS}")
    s.close()
    return Recorded(
        inv, inv.export(base / "report.html"), inv.export(base / "report.md"), plan.root.label
    )


# -- HTML, read as text ---------------------------------------------------------------------------
def test_html_is_one_file_with_no_script_and_no_external_reference(recorded: Recorded) -> None:
    page = recorded.html.read_text(encoding="utf-8")
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'" in page
    )
    assert "<script" not in page.lower()
    for attribute, value in re.findall(r"\b(src|href)=[\"']([^\"']*)", page):
        assert value.startswith(("data:image/", "#")), (attribute, value[:60])
    assert page.count('src="data:image/svg+xml;base64,') == 7
    assert TABLE not in page and ALIAS not in page and MARK not in page
    assert escape(TABLE) in page and escape(ALIAS) in page and escape(MARK) in page


def test_html_holds_every_section(recorded: Recorded) -> None:
    page = recorded.html.read_text(encoding="utf-8")
    for anchor in ("summary", "environment", "before-after", "appendix"):
        assert f'id="{anchor}"' in page
    for step in recorded.inv.steps:
        assert f'id="step-{step.id}"' in page
    assert page.count("class='wb-plan'") >= 3  # the plan, and the fix's before and after
    assert "N+1 candidate" in page and "n_plus_one" in page
    assert "Structured findings" in page and "claude-test" in page
    assert "faster" in page or "slower" in page or "difference" in page  # the verdicts
    # the appendix: the statement as a Python literal, and its SQL
    assert escape(f"s.explain({SQL!r}, analyze=True)") in page
    assert "s.try_fix(" in page and "sqlite" in page


def test_reloaded_investigation_writes_the_same_report(recorded: Recorded, tmp_path: Path) -> None:
    again = wb.Investigation.load(recorded.inv.folder).export(tmp_path / "again.html")
    first, second = recorded.html.read_text(), again.read_text()
    assert first.count("<img ") == second.count("<img ") == 7
    assert html.escape(recorded.plan_label) in second
    strip = re.compile(r"report written [0-9T:-]+")
    body = re.compile(r"<main id=\"steps\">.*</main>", re.S)
    steps_first, steps_second = body.search(first), body.search(second)
    assert steps_first and steps_second
    assert strip.sub("", steps_first.group(0)) == strip.sub("", steps_second.group(0))


# -- HTML, in a browser ---------------------------------------------------------------------------
@pytest.mark.browser
def test_report_in_chromium_offline_runs_nothing_and_shows_everything(recorded: Recorded) -> None:
    require(Path(CHROMIUM).exists(), "Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    url = recorded.html.as_uri()
    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.route(
                "**/*",
                lambda route: route.continue_() if route.request.url == url else route.abort(),
            )
            page.add_init_script("window.__x = 'untouched';")
            page.goto(url, wait_until="load")
            page.wait_for_timeout(300)

            assert requests == [url]
            assert dialogs == []
            assert page.evaluate("window.__x") == "untouched"
            assert page.evaluate("document.scripts.length") == 0
            text = page.inner_text("body")
            for hostile in (TABLE, ALIAS, MARK):
                assert hostile in text
            tree = page.locator(".wb-plan").first
            assert tree.is_visible()
            assert recorded.plan_label in tree.inner_text()
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.naturalWidth, i.src.slice(0, 26)])"
            )
            assert len(images) == 7
            assert all(width > 0 and src.startswith("data:image/") for width, src in images)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report-hostile.png"), full_page=True)

            page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
            page.emulate_media(media="print")
            clipped = page.evaluate(
                "Array.from(document.querySelectorAll('pre, table'))"
                ".filter(e => e.scrollWidth > e.clientWidth + 1).length"
            )
            assert clipped == 0
            steps = page.evaluate(
                "Array.from(document.querySelectorAll('section.step'))"
                ".map(e => getComputedStyle(e).breakBefore)"
            )
            assert set(steps) == {"page"}
        finally:
            browser.close()


@pytest.mark.browser
def test_pdf_is_printed_by_chromium(recorded: Recorded, tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "Debian's chromium at /usr/bin/chromium")
    pdf = recorded.inv.export(tmp_path / "report.pdf", chromium=CHROMIUM)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000


def test_pdf_without_a_browser_is_a_clear_error(recorded: Recorded, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Chromium"):
        recorded.inv.export(tmp_path / "report.pdf", chromium=str(tmp_path / "no-chromium"))


# -- Markdown -------------------------------------------------------------------------------------
class _Tags(HTMLParser):
    """Every element and attribute a browser would build from a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_markdown_report_links_its_images_relatively(recorded: Recorded) -> None:
    text = recorded.markdown.read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 7
    for link in links:
        assert link.startswith("report_files/") and link.endswith(".png")
        assert (recorded.markdown.parent / link).stat().st_size > 1000
    assert (recorded.markdown.parent / "report_files" / "step010-figure.png").exists()


def test_markdown_report_neutralises_hostile_strings(recorded: Recorded) -> None:
    from markdown_it import MarkdownIt

    text = recorded.markdown.read_text(encoding="utf-8")
    # SQL sits in fenced blocks, verbatim
    assert f"```sql\n{SQL}\n```" in text
    # rendered by a permissive renderer (raw HTML allowed, as many wikis do)
    page = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        assert tag not in ("script", "svg", "iframe", "object"), tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "img":
            assert (attrs.get("src") or "").startswith("report_files/"), attrs
        if tag == "a":
            assert not (attrs.get("href") or "").lower().startswith(("javascript", "data")), attrs
    plain = re.sub(r"<[^>]+>", "", page)
    assert html.escape(TABLE, quote=False) in plain or TABLE in html.unescape(plain)


def test_markdown_escaping_units() -> None:
    assert fence("a ```` b", "sql") == "`````sql\na ```` b\n`````"
    assert fence("x").startswith("```\n")
    assert code_span("`x`") == "`` `x` ``"
    assert code_span("a|b", table=True) == "`a\\|b`"
    assert md_text("# <b>*x*</b>\n1. y") == "\\# \\<b\\>\\*x\\*\\</b\\>  \n1\\. y"
    assert md_cell("a | b\nc") == "a \\| b c"
    out = neutralise("<b>x</b> [a](javascript:alert(1))\n```\n<kept>\n```")
    assert out == "&lt;b>x&lt;/b> [a](unsafe-javascript-alert(1))\n```\n<kept>\n```"


# -- robustness -----------------------------------------------------------------------------------
def test_unknown_formats_and_options_are_configuration_errors(
    recorded: Recorded, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match=r"\.html"):
        recorded.inv.export(tmp_path / "report.docx")
    with pytest.raises(ConfigurationError, match="unknown report option"):
        recorded.inv.export(tmp_path / "report.html", colour="red")


def test_a_tampered_figure_path_is_not_embedded(recorded: Recorded, tmp_path: Path) -> None:
    folder = tmp_path / "inv"
    secret = tmp_path / "secret.svg"
    secret.write_text("<svg xmlns='http://www.w3.org/2000/svg'><text>TOPSECRET</text></svg>")
    inv = wb.Investigation("tampered", folder=folder)
    figure = Figure()
    figure.add_subplot().plot([1, 2])
    step = inv.record(figure)
    step.artefacts = ["../secret.svg"]
    inv.save()
    page = wb.Investigation.load(folder).export(tmp_path / "report.html").read_text()
    assert base64.b64encode(secret.read_bytes()).decode()[:40] not in page
    assert "not an image of the investigation" in page


def test_a_broken_step_is_reported_not_fatal(tmp_path: Path) -> None:
    inv = wb.Investigation("broken", folder=tmp_path / "inv")
    inv.note("still here")
    data: dict[str, Any] = json.loads((inv.folder / "investigation.json").read_text())
    data["steps"].append(
        {
            "id": 2,
            "kind": "plan",
            "title": "bad",
            "created_at": "",
            "data": {"plan": {"raw": "not a plan", "dialect": "postgresql"}},
        }
    )
    (inv.folder / "investigation.json").write_text(json.dumps(data))
    page = wb.Investigation.load(inv.folder).export(tmp_path / "r.html").read_text()
    assert "still here" in page and "this step could not be shown" in page


def test_dollar_signs_in_chart_text_are_literal() -> None:
    from workbench.report.images import draw_chart
    from workbench.report.views import Chart

    plan = wb.parse_plan("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)")
    plan.sql = "SELECT * FROM t WHERE a = $1 AND b = $2"
    drawn: list[Figure] = []

    def draw() -> Figure:
        figure: Figure = plan.chart()
        figure.axes[0].set_title("costs $1 and $2 and $x$")
        drawn.append(figure)
        return figure

    assert draw_chart(Chart("plan", "plan", draw), "svg").startswith(b"<?xml")
    assert drawn[0].axes[0].get_title() == r"costs \$1 and \$2 and \$x\$"


def test_an_offline_answer_s_findings_are_the_investigation_s(tmp_path: Path) -> None:
    s = wb.connect(f"sqlite:///{tmp_path / 'shop.sqlite'}")
    wb.demo.load(s, scale=0.01)
    sql = "SELECT * FROM orders WHERE user_id = 42"
    ev = s.evidence(sql, plan=s.explain(sql, analyze=True))
    answer = wb.Architect(save_dir=tmp_path / "answers").analyze(ev)  # no key: offline
    assert answer.offline and answer.findings
    inv = wb.Investigation("offline", folder=tmp_path / "inv")
    inv.record(answer)
    html_report = inv.export(tmp_path / "r.html").read_text()
    md_report = inv.export(tmp_path / "r.md").read_text()
    for text in (html_report, md_report):
        assert "No findings were recorded" not in text
        assert answer.findings[0].code in text
    # the appendix defines the evidence its "arch.analyze(ev)" line uses
    appendix = md_report[md_report.index("arch.analyze(ev)") - 400 :]
    assert "ev = wb.Evidence.load(" in appendix
