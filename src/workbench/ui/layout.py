"""The panel's widgets and how they sit together; the panel (:mod:`workbench.ui.workbench`)
wires them to actions. Standard ipywidgets controls, plus the plan view (anywidget)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ACTIONS", "TABS", "Controls", "build"]

TABS = ("Plan", "Charts", "Findings", "Architect", "Evidence", "History")
#: (name, label, style, tooltip) of the action buttons, in toolbar order
ACTIONS = (
    ("explain", "Explain", "", "the plan, estimates only"),
    ("analyze", "Explain Analyze", "info", "run it and time every step"),
    ("profile", "Profile", "info", "latency over many runs"),
    ("capture", "Capture", "", "start/stop recording statements from app code"),
    ("compare", "Compare", "", "two profiles from the history, before vs after"),
    ("ask", "Ask the Architect", "success", "send the evidence for analysis"),
    ("export", "Export", "", "write the report"),
)


@dataclass
class Controls:
    """Every widget of the panel, by what it is for."""

    widget: Any
    connection: Any
    url: Any
    url_secret: Any
    connect_button: Any
    sql: Any
    params: Any
    runs: Any
    concurrency: Any
    allow_writes: Any
    buttons: dict[str, Any]
    stop_button: Any
    status: Any
    python: Any
    tabs: Any
    plan_view: Any
    plan_note: Any
    charts: Any
    compare_before: Any
    compare_after: Any
    compare_any: Any
    compare_box: Any
    findings_box: Any
    findings_python: Any
    fix_result: Any
    fix_view: Any
    answer_html: Any
    follow_up: Any
    follow_button: Any
    evidence_html: Any
    history_html: Any

    def typed_url(self) -> str:
        return str(self.url_secret.value or self.url.value)

    def hide_password(self, change: dict[str, Any]) -> None:
        """A URL that gets a password as it is typed moves to the password field."""
        from workbench.ui.render import has_password

        if has_password(str(change.get("new") or "")):
            self.url_secret.value = change["new"]
            self.url.value = ""
            self.url.layout.display = "none"
            self.url_secret.layout.display = ""

    def clear_url(self) -> None:
        self.url.value = ""
        self.url_secret.value = ""
        self.url_secret.layout.display = "none"
        self.url.layout.display = ""


def build(sql: str, params: str) -> Controls:
    import ipywidgets as w

    from workbench.ui.plan_view import PlanView

    connection = w.HTML()
    url = w.Text(placeholder="another database: a SQLAlchemy URL", layout={"width": "40%"})
    # a URL with a password moves here as it is typed, so the password is never on screen
    url_secret = w.Password(placeholder="URL (password hidden)", layout={"width": "40%"})
    url_secret.layout.display = "none"
    connect_button = w.Button(description="Switch", tooltip="connect to this URL")
    sql_box = w.Textarea(value=sql, layout={"width": "100%", "height": "90px"})
    params_box = w.Text(value=params, description="params", layout={"width": "34%"})
    runs = w.BoundedIntText(
        value=200, min=1, max=10_000_000, description="runs", layout={"width": "150px"}
    )
    concurrency = w.BoundedIntText(
        value=1, min=1, max=256, description="clients", layout={"width": "150px"}
    )
    allow_writes = w.Checkbox(
        value=False,
        description="allow writes (rolled back)",
        indent=False,
        tooltip="run a write once for Explain Analyze or Profile, inside a transaction that "
        "is always rolled back; unticks itself after use",
        layout={"width": "auto"},
    )
    buttons = {
        name: w.Button(
            description=label,
            button_style=style,
            tooltip=tip,
            layout={"width": "auto", "min_width": "90px"},
        )
        for name, label, style, tip in ACTIONS
    }
    stop_button = w.Button(description="Stop", button_style="", disabled=True, tooltip="")
    status = w.HTML()
    python = w.HTML()
    plan_view = PlanView(data={"empty": "No plan yet: Explain or Explain Analyze a statement."})
    plan_note = w.HTML()
    charts = w.VBox()
    compare_before = w.Dropdown(description="before", layout={"width": "48%"})
    compare_after = w.Dropdown(description="after", layout={"width": "48%"})
    compare_any = w.Checkbox(value=False, description="allow different statements", indent=False)
    compare_box = w.VBox([w.HBox([compare_before, compare_after]), compare_any])
    findings_box = w.VBox()
    findings_python = w.HTML()
    fix_result = w.HTML()
    fix_view = PlanView(data={"empty": ""})
    fix_view.layout.display = "none"
    answer_html = w.HTML()
    follow_up = w.Text(placeholder="a follow-up question", layout={"width": "70%"})
    follow_button = w.Button(description="Ask")
    evidence_html = w.HTML()
    history_html = w.HTML()
    tabs = w.Tab(
        children=[
            w.VBox([plan_note, plan_view]),
            w.VBox([compare_box, charts]),
            w.VBox([findings_python, findings_box, fix_result, fix_view]),
            w.VBox([answer_html, w.HBox([follow_up, follow_button])]),
            evidence_html,
            history_html,
        ]
    )
    for i, name in enumerate(TABS):
        tabs.set_title(i, name)
    # stable names for the page (tests and stylesheets), whatever ipywidgets calls its nodes
    for widget_, name in (
        (status, "wb-status"),
        (python, "wb-python"),
        (sql_box, "wb-sql"),
        (params_box, "wb-params"),
        (runs, "wb-runs"),
        (charts, "wb-charts"),
        (compare_before, "wb-compare-before"),
        (compare_after, "wb-compare-after"),
        (compare_any, "wb-compare-any"),
        (findings_box, "wb-findings"),
        (answer_html, "wb-answer"),
        (evidence_html, "wb-evidence"),
        (history_html, "wb-history"),
        (allow_writes, "wb-allow-writes"),
    ):
        widget_.add_class(name)
    widget = w.VBox(
        [
            w.HBox([connection, url, url_secret, connect_button]),
            sql_box,
            w.HBox([params_box, runs, concurrency, allow_writes]),
            w.HBox([*buttons.values(), stop_button], layout={"flex_flow": "row wrap"}),
            status,
            python,
            tabs,
        ],
        layout={"border": "1px solid var(--jp-border-color2, #d0d7de)", "padding": "6px"},
    )
    return Controls(
        widget=widget,
        connection=connection,
        url=url,
        url_secret=url_secret,
        connect_button=connect_button,
        sql=sql_box,
        params=params_box,
        runs=runs,
        concurrency=concurrency,
        allow_writes=allow_writes,
        buttons=buttons,
        stop_button=stop_button,
        status=status,
        python=python,
        tabs=tabs,
        plan_view=plan_view,
        plan_note=plan_note,
        charts=charts,
        compare_before=compare_before,
        compare_after=compare_after,
        compare_any=compare_any,
        compare_box=compare_box,
        findings_box=findings_box,
        findings_python=findings_python,
        fix_result=fix_result,
        fix_view=fix_view,
        answer_html=answer_html,
        follow_up=follow_up,
        follow_button=follow_button,
        evidence_html=evidence_html,
        history_html=history_html,
    )
