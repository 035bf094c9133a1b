"""What :func:`workbench.health.check` returns: a list of :class:`~workbench.findings.Finding`
(the offline rules' model, so the same views, reports and filters apply) that also says what
was checked and what could not be (:attr:`HealthReport.notes`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.findings import SEVERITIES, Finding

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HealthReport", "health_finding", "size"]


class HealthReport(list[Finding]):
    """The findings about a database as a whole, most severe first, then by bytes at stake.

    ``checks`` names what was looked at; ``notes`` what could not be judged, and why (no
    usage statistics, statistics too young, a view the server does not have).

    >>> report = HealthReport([], dialect="sqlite", checks=["duplicate_index"])
    >>> report.to_dict()["findings"]
    []
    """

    def __init__(
        self,
        findings: list[Finding] | tuple[Finding, ...] = (),
        *,
        dialect: str = "",
        checks: list[str] | None = None,
        notes: list[str] | None = None,
    ) -> None:
        super().__init__(sorted(findings, key=_order))
        self.dialect = dialect
        self.checks = list(checks or [])
        self.notes = list(notes or [])

    def by_code(self, code: str) -> list[Finding]:
        """The findings of one code (``report.by_code("unused_index")``)."""
        return [f for f in self if f.code == code]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dialect": self.dialect,
            "checks": self.checks,
            "notes": self.notes,
            "findings": [f.to_dict() for f in self],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HealthReport:
        return cls(
            [Finding.from_dict(f) for f in data.get("findings", [])],
            dialect=str(data.get("dialect", "")),
            checks=list(data.get("checks", [])),
            notes=list(data.get("notes", [])),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per finding: severity, code, objects, title, fix, risk."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "severity": f.severity,
                    "code": f.code,
                    "objects": ", ".join(f.tables),
                    "title": f.title,
                    "fix": f.fix,
                    "risk": f.risk,
                }
                for f in self
            ],
            columns=["severity", "code", "objects", "title", "fix", "risk"],
        )

    def __str__(self) -> str:
        head = f"health of this {self.dialect or 'database'}: " + (
            f"{len(self)} finding{'s' if len(self) != 1 else ''}" if self else "nothing found"
        )
        lines = [head, *(str(f) for f in self)]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        codes = ", ".join(dict.fromkeys(f.code for f in self)) or "nothing found"
        return f"<HealthReport {self.dialect}: {len(self)} findings ({codes})>"

    def _repr_html_(self) -> str:
        from workbench.safe_html import escape

        rows = "".join(
            "<tr>"
            f"<td>{escape(f.severity)}</td><td><code>{escape(f.code)}</code></td>"
            f"<td>{escape(f.title)}"
            + (f"<div style='opacity:.8'>{escape(f.detail)}</div>" if f.detail else "")
            + "</td>"
            f"<td>{'<pre>' + escape(f.fix) + '</pre>' if f.fix else ''}</td>"
            f"<td>{escape(f.risk or '')}</td>"
            "</tr>"
            for f in self
        )
        notes = "".join(f"<li>{escape(n)}</li>" for n in self.notes)
        table = (
            "<table><thead><tr><th>severity</th><th>code</th><th>finding</th><th>fix</th>"
            f"<th>risk</th></tr></thead><tbody>{rows}</tbody></table>"
            if self
            else "<p>Nothing found.</p>"
        )
        return (
            f"<div class='wb-health'><b>Health of this {escape(self.dialect)} database</b>: "
            f"{len(self)} finding{'s' if len(self) != 1 else ''}{table}"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )


def _order(f: Finding) -> tuple[int, float]:
    rank = SEVERITIES.index(f.severity) if f.severity in SEVERITIES else len(SEVERITIES)
    at_stake = f.evidence.get("bytes")
    return rank, -(float(at_stake) if isinstance(at_stake, int | float) else 0.0)


def size(value: float | None) -> str:
    """Bytes for people: ``8.0 MB``, ``512 kB``."""
    return fmt.kilobytes(None if value is None else float(value) / 1024)


def health_finding(
    code: str,
    severity: str,
    title: str,
    detail: str,
    *,
    objects: list[str],
    evidence: dict[str, Any],
    fix: str | None,
    fix_kind: str | None = "ddl",
    expected_effect: str | None = None,
    risk: str | None = None,
) -> Finding:
    """A health :class:`Finding`: ``objects`` are the tables and indexes it names."""
    return Finding(
        code=code,
        severity=severity,
        title=title,
        detail=detail,
        evidence=evidence,
        fix=fix,
        fix_kind=fix_kind if fix else None,
        expected_effect=expected_effect,
        source="offline",
        tables=list(dict.fromkeys(objects)),
        risk=risk,
    )
