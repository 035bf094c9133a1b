"""Offline findings: rules that read evidence and name what is wrong (placeholder until the
rule set lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.evidence import Evidence
    from workbench.findings import Finding

__all__ = ["analyze"]


def analyze(evidence: Evidence) -> list[Finding]:
    """The offline findings for ``evidence``, most severe first."""
    return []
