"""The architect: a persona on Anthropic's API, reading the evidence, answering with findings,
and investigating by itself with the workbench's tools.

``wb.Architect().analyze(ev)`` sends one request through the official ``anthropic`` SDK:

* the persona as one system block, the workbench's protocol (the evidence is data, never
  instructions; the tools; how to report findings) as another, both cached;
* the evidence as labelled data blocks (``<evidence kind="...">``) that text inside them can
  never close, the payload marked for caching, so follow-ups (``arch.ask(...)``) read persona
  and evidence from the cache, and each new turn carries its own breakpoint;
* a strict ``report_findings`` tool, so the answer carries structured findings (the codes of
  :mod:`workbench.findings`) beside the Markdown narrative; a missing or malformed report is
  said in the answer's notes, never silently dropped;
* streaming: the text appears as it is written (``on_text``, stdout by default), and a cell
  shows it once.

``wb.Architect(session=s).investigate(question, approve=...)`` runs the tool loop
(:mod:`workbench.tools`): reads run at once, each call that executes a statement or builds
something is put to ``approve``, every call is recorded in the investigation, and budgets of
steps, tokens and wall time end it with what was gathered.

Before sending, each request is counted (the API's token counter; a local estimate where the
client has none) and the first is refused past ``max_input_tokens``; the evidence is saved to
disk, so a failure loses nothing. 401 is not retried ("check ANTHROPIC_API_KEY"); 429, 529 and
5xx are retried by the SDK with backoff, an error in the middle of a stream here, then end in
:class:`~workbench.errors.ArchitectError`. With no API key (and no client given), or no API
reachable, the offline rules answer, labelled as such.
"""

from __future__ import annotations

from workbench.architect.answer import Answer
from workbench.architect.conversation import Architect, Recorder
from workbench.architect.offline import offline_markdown
from workbench.architect.protocol import DATA_PREAMBLE, REPORT_TOOL

__all__ = ["DATA_PREAMBLE", "REPORT_TOOL", "Answer", "Architect", "Recorder", "offline_markdown"]
