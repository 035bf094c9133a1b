"""``workbench demo``: the demo investigation, headless, ending in a report file."""

from __future__ import annotations

import html
import time
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["run_demo"]


def run_demo(*, report: Path, scale: float = 1.0) -> int:
    """Connect to the embedded database, explain every planted pathology, write ``report``."""
    import workbench as wb
    from workbench.demo.pathologies import PATHOLOGIES

    started = time.perf_counter()
    session = wb.demo.connect(scale=scale)
    print(f"database: {session.label} ({session.server.description.split(',')[0]})")
    print(f"          {session.url}")
    steps: list[dict[str, Any]] = []
    for item in PATHOLOGIES:
        sql = item.sql_for(session.dialect)
        try:
            plan = session.explain(sql, analyze=True, settings=item.settings or None)
            result = session.execute(sql, settings=item.settings or None)
            status = f"{result.elapsed_ms:8.1f} ms  {len(result.rows):>7} rows"
        except wb.WorkbenchError as exc:
            plan, status = None, f"error: {exc.message}"
        print(f"  {item.name:<28} {status}")
        steps.append({"pathology": item, "sql": sql, "plan": plan, "status": status})
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(_stub_report(session, steps), encoding="utf-8")
    print(f"report: {report} ({time.perf_counter() - started:.1f} s)")
    print("note: findings, the architect and the full report arrive with later features")
    session.close()
    return 0


def _stub_report(session: Any, steps: list[dict[str, Any]]) -> str:
    esc = html.escape
    rows = []
    for step in steps:
        item = step["pathology"]
        plan = step["plan"].to_text() if step["plan"] else ""
        rows.append(
            f"<section><h2>{esc(item.title)}</h2><p>{esc(item.story)}</p>"
            f"<pre>{esc(step['sql'])}</pre><p>{esc(step['status'])}</p>"
            f"<details><summary>plan</summary><pre>{esc(plan)}</pre></details>"
            f"<p>Fix: <code>{esc(item.fix)}</code></p></section>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\"><title>workbench demo</title></head><body>"
        f"<h1>workbench demo</h1><p>{esc(session.label or '')} — "
        f"{esc(session.server.description)} — {esc(datetime.now().isoformat(timespec='seconds'))}"
        f"</p>{''.join(rows)}</body></html>"
    )
