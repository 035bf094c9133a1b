"""IPython magics, for people who prefer cells to panels (``%load_ext workbench``).

=============================================  =============================================
``%wb_connect [URL] [--timeout S]``            connect (no URL: the embedded database); the
                                               session is ``s`` in the notebook
``%%wb_sql [--save NAME]``                     run the cell's statement, show the rows
``%%explain [--analyze] [--allow-writes]``     the plan of the cell's statement (``plan``)
``%%profile [--runs N] [--concurrency C]``     its latency profile and histogram (``prof``)
``[--duration S] [--params JSON]``
``%wb_ask "question"``                         the architect on the latest plan/profile, or a
                                               follow-up (``answer``)
=============================================  =============================================

Like JupySQL's ``%%sql``, the magics keep their results in the notebook's namespace
(``--save NAME`` picks the name) and add ``:name`` parameters from ``--params``.
"""

from __future__ import annotations

import argparse
import itertools
import keyword
import re
import shlex
from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from workbench.cli.options import (
    OptionParser,
    add_allow_writes,
    add_profile_arguments,
    params_json,
    positive,
)
from workbench.errors import WorkbenchError

__all__ = ["WorkbenchMagics", "load_ipython_extension"]


@magics_class
class WorkbenchMagics(Magics):
    """The ``%wb_*``, ``%%explain`` and ``%%profile`` magics."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.architect: Any = None
        # the latest plan and profile a magic made (whatever --save called them), and what the
        # architect was last asked about: a follow-up only while that is still the latest
        self.latest: dict[str, tuple[int, Any]] = {}
        self.made = itertools.count()
        self.asked_about: tuple[Any, Any] | None = None
        self.asked_persona: str | None = None

    # -- helpers ----------------------------------------------------------------------------------
    @property
    def namespace(self) -> dict[str, Any]:
        """The notebook's namespace (the shell is always set once the magics are loaded)."""
        assert self.shell is not None
        return self.shell.user_ns  # type: ignore[no-any-return]

    def _session(self) -> Any:
        session = self.namespace.get("s")
        from workbench.session import Session

        if not isinstance(session, Session):
            raise WorkbenchError(
                "no session yet",
                hint="run %wb_connect first (no URL: the embedded PostgreSQL with the demo data)",
            )
        return session

    def _save(self, name: str, value: Any, *, latest: str | None = None) -> None:
        """Put ``value`` in the notebook as ``name``; ``latest``: the kind %wb_ask reads."""
        self.namespace[name] = value
        if latest is not None:
            self.latest[latest] = (next(self.made), value)

    def _latest_evidence(self) -> tuple[Any, Any]:
        """The plan and profile to ask about: the latest the magics made (else the notebook's
        ``plan`` and ``prof``); of two about different statements, only the more recent."""
        import workbench as wb

        found: dict[str, tuple[int, Any]] = {}
        for name, kind in (("plan", wb.Plan), ("prof", wb.Profile)):
            made = self.latest.get(name)
            value = self.namespace.get(name)
            if made is not None:
                found[name] = made
            elif isinstance(value, kind):
                found[name] = (-1, value)
        plan, prof = found.get("plan"), found.get("prof")
        if plan and prof and not _same_statement(plan[1], prof[1]):
            if plan[0] > prof[0]:
                prof = None
            else:
                plan = None
        return (plan[1] if plan else None), (prof[1] if prof else None)

    def _report(self, exc: WorkbenchError) -> None:
        # a readable message, not a traceback dump
        from workbench.safe_html import escape

        text = exc.message
        if exc.hint:  # the hints are written for Python; here the same advice is an option
            text += "\n→ " + re.sub(r"(?:pass )?allow_writes=True", "add --allow-writes", exc.hint)
        html = f"<div style='color:#cf222e'>⚠ {escape(text)}</div>"
        display({"text/html": html, "text/plain": f"⚠ {text}"}, raw=True)

    # -- magics -----------------------------------------------------------------------------------
    @line_magic
    def wb_connect(self, line: str) -> Any:
        """``%wb_connect [URL] [--timeout S]``: connect; the session is ``s``."""
        import workbench as wb

        try:
            args = _parse(_CONNECT, line)
            session = wb.connect(args.url, timeout=args.timeout)
        except WorkbenchError as exc:
            self._report(exc)
            return None
        self.namespace["s"] = session
        return session

    @cell_magic
    def wb_sql(self, line: str, cell: str) -> Any:
        """``%%wb_sql [--save NAME] [--params JSON] [--allow-writes]``: the rows of the cell's
        statement (a write runs in a transaction that is rolled back)."""
        try:
            args = _parse(_SQL, line)
            frame = self._session().query(cell, params=args.params, allow_writes=args.allow_writes)
        except WorkbenchError as exc:
            self._report(exc)
            return None
        self._save(args.save or "df", frame)
        return frame

    @cell_magic
    def explain(self, line: str, cell: str) -> Any:
        """``%%explain [--analyze] [--allow-writes] [--params JSON] [--save NAME]``."""
        try:
            args = _parse(_EXPLAIN, line)
            plan = self._session().explain(
                cell, analyze=args.analyze, params=args.params, allow_writes=args.allow_writes
            )
        except WorkbenchError as exc:
            self._report(exc)
            return None
        self._save(args.save or "plan", plan, latest="plan")
        return plan

    @cell_magic
    def profile(self, line: str, cell: str) -> Any:
        """``%%profile [--runs N] [--concurrency C] [--duration S] [--params JSON]
        [--allow-writes] [--save NAME]``."""
        try:
            args = _parse(_PROFILE, line)
            prof = self._session().profile(
                cell,
                runs=args.runs,
                warmup=args.warmup,
                concurrency=args.concurrency,
                duration=args.duration,
                params=args.params,
                allow_writes=args.allow_writes,
            )
        except WorkbenchError as exc:
            self._report(exc)
            return None
        self._save(args.save or "prof", prof, latest="prof")
        display(prof)
        return prof.histogram()

    @line_magic
    def wb_ask(self, line: str) -> Any:
        """``%wb_ask [--persona NAME_OR_PATH] "question"``: the architect on the latest plan
        and profile (offline findings without an API key); asked again, a follow-up. The
        persona is an agent file, or a name in ``.claude/agents/`` or ``~/.claude/agents/``."""
        import workbench as wb

        try:
            args = _parse(_ASK, line)
            question = " ".join(args.question) or None
            plan, prof = self._latest_evidence()
            same = self.asked_about == (plan, prof) and args.persona == self.asked_persona
            if same and self.architect is not None and self.architect.evidence is not None:
                answer = self.architect.ask(question or "and now?")
            else:
                evidence = self._session().evidence(plan=plan, profile=prof, question=question)
                self.architect = wb.Architect(args.persona)
                answer = self.architect.analyze(evidence, question=question)
                self.asked_about = (plan, prof)
                self.asked_persona = args.persona
        except WorkbenchError as exc:
            self._report(exc)
            return None
        self.namespace["answer"] = answer
        return answer


def _variable(name: str) -> str:
    """A ``--save`` name: a Python variable that is not the session's (``s``) nor ``answer``."""
    if not name.isidentifier() or keyword.iskeyword(name) or name in ("s", "answer"):
        raise argparse.ArgumentTypeError(
            f"{name!r} is not a variable name the result can go in (e.g. before)"
        )
    return name


def _same_statement(plan: Any, prof: Any) -> bool:
    from workbench.fingerprint import fingerprint

    return bool(plan.sql and prof.sql) and fingerprint(plan.sql) == fingerprint(prof.sql)


def _parser(magic: str, *, save: bool = True) -> OptionParser:
    # exact option names only: a typo such as --analyse must not pass as an abbreviation
    parser = OptionParser(prog=magic, add_help=False, allow_abbrev=False)
    if save:
        parser.add_argument("--save", type=_variable, default=None, metavar="NAME")
    return parser


_CONNECT = _parser("%wb_connect", save=False)
_CONNECT.add_argument("url", nargs="?", default=None)
_CONNECT.add_argument("--timeout", type=positive, default=30.0)

_SQL = _parser("%%wb_sql")
_SQL.add_argument("--params", type=params_json, default=None, metavar="JSON")
add_allow_writes(_SQL, "a write runs in a transaction that is rolled back")

_EXPLAIN = _parser("%%explain")
_EXPLAIN.add_argument("--analyze", action="store_true")
_EXPLAIN.add_argument("--params", type=params_json, default=None, metavar="JSON")
add_allow_writes(_EXPLAIN, "allow --analyze of a write (rolled back)")

_ASK = _parser("%wb_ask", save=False)
_ASK.add_argument("--persona", default=None, metavar="NAME_OR_PATH")
_ASK.add_argument("question", nargs="*")

_PROFILE = _parser("%%profile")
add_profile_arguments(_PROFILE)
_PROFILE.add_argument("--concurrency", type=int, default=1)
_PROFILE.add_argument("--duration", type=positive, default=None)
add_allow_writes(_PROFILE, "profile a write: each execution is rolled back")


def _parse(parser: OptionParser, line: str) -> argparse.Namespace:
    """The magic's options, as the command line reads them (``--name value`` or
    ``--name=value``); anything else is refused with the usage, never ignored."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise WorkbenchError(f"cannot read the options: {exc}", hint="check the quotes") from None
    return parser.parse_args(words)


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (``%load_ext workbench``)."""
    ipython.register_magics(WorkbenchMagics)
