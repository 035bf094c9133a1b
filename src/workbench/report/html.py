"""The self-contained HTML report: one file, no script, no external request.

Rendered by Jinja2 with autoescape on (``templates/report.html.j2``). Only two kinds of
markup reach the page unescaped, both produced here and never in a template: a plan's tree
(:meth:`~workbench.plans.model.Plan.to_html` escapes every string from the database) and
Markdown rendered by :func:`workbench.safe_html.render_markdown` (safe preset, then nh3).
Images are ``data:`` URIs; the page's Content-Security-Policy allows nothing else.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from workbench.report.views import evidence_items

if TYPE_CHECKING:
    from collections.abc import Callable

    import jinja2

    from workbench.plans.model import Plan
    from workbench.report.images import Image
    from workbench.report.views import ReportView

__all__ = ["CONTENT_SECURITY_POLICY", "render_html"]

#: no script, no font, no frame, no connection: inline styles and data: images only
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("workbench.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = _markdown
    env.filters["plan_html"] = _plan_html
    env.filters["evidence_items"] = evidence_items
    return env


def _markdown(source: str) -> Markup:
    from workbench.safe_html import render_markdown

    # sanitized by nh3: allowlisted tags, attributes and URL schemes only
    return Markup(render_markdown(source))  # noqa: S704


def _plan_html(plan: Plan) -> Markup:
    # the plan renderer escapes every string that came from the database
    return Markup(plan.to_html())  # noqa: S704


def render_html(view: ReportView, *, image: Callable[[Any], Image], setup: str) -> str:
    """The report page. ``image`` turns a chart or figure block into an :class:`Image`;
    ``setup`` is the appendix's first lines (connecting)."""
    template = _environment().get_template("report.html.j2")
    # the policy is a constant of ours, kept verbatim (escaped quotes would work, but read badly)
    csp = Markup(CONTENT_SECURITY_POLICY)  # noqa: S704
    return template.render(report=view, image=image, setup=setup, csp=csp).lstrip()
