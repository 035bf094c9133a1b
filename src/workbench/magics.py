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

import json
import shlex
from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from workbench.errors import WorkbenchError

__all__ = ["WorkbenchMagics", "load_ipython_extension"]


@magics_class
class WorkbenchMagics(Magics):
    """The ``%wb_*``, ``%%explain`` and ``%%profile`` magics."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.architect: Any = None

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

    def _save(self, name: str, value: Any) -> None:
        self.namespace[name] = value

    def _report(self, exc: WorkbenchError) -> None:
        # a readable message, not a traceback dump
        from workbench.safe_html import escape

        html = f"<div style='color:#cf222e'>⚠ {escape(str(exc))}</div>"
        display({"text/html": html, "text/plain": f"⚠ {exc}"}, raw=True)

    # -- magics -----------------------------------------------------------------------------------
    @line_magic
    def wb_connect(self, line: str) -> Any:
        """``%wb_connect [URL] [--timeout S]``: connect; the session is ``s``."""
        import workbench as wb

        try:
            args = _parse(line, {"--timeout": float}, positional=1)
            url = args["_"][0] if args["_"] else None
            session = wb.connect(url, timeout=args.get("--timeout", 30.0))
        except WorkbenchError as exc:
            self._report(exc)
            return None
        self._save("s", session)
        return session

    @cell_magic
    def wb_sql(self, line: str, cell: str) -> Any:
        """``%%wb_sql [--save NAME] [--params JSON]``: the rows of the cell's statement."""
        try:
            args = _parse(line, {"--save": str, "--params": json.loads})
            frame = self._session().query(cell, params=args.get("--params"))
        except WorkbenchError as exc:
            self._report(exc)
            return None
        self._save(args.get("--save", "df"), frame)
        return frame

    @cell_magic
    def explain(self, line: str, cell: str) -> Any:
        """``%%explain [--analyze] [--allow-writes] [--params JSON] [--save NAME]``."""
        try:
            args = _parse(
                line,
                {"--save": str, "--params": json.loads, "--analyze": bool, "--allow-writes": bool},
            )
            plan = self._session().explain(
                cell,
                analyze=args.get("--analyze", False),
                params=args.get("--params"),
                allow_writes=args.get("--allow-writes", False),
            )
        except WorkbenchError as exc:
            self._report(exc)
            return None
        self._save(args.get("--save", "plan"), plan)
        return plan

    @cell_magic
    def profile(self, line: str, cell: str) -> Any:
        """``%%profile [--runs N] [--concurrency C] [--duration S] [--params JSON]
        [--save NAME]``."""
        try:
            args = _parse(
                line,
                {
                    "--runs": int,
                    "--concurrency": int,
                    "--duration": float,
                    "--params": json.loads,
                    "--save": str,
                    "--warmup": int,
                },
            )
            prof = self._session().profile(
                cell,
                runs=args.get("--runs", 200),
                warmup=args.get("--warmup", 20),
                concurrency=args.get("--concurrency", 1),
                duration=args.get("--duration"),
                params=args.get("--params"),
            )
        except WorkbenchError as exc:
            self._report(exc)
            return None
        self._save(args.get("--save", "prof"), prof)
        display(prof)
        return prof.histogram()

    @line_magic
    def wb_ask(self, line: str) -> Any:
        """``%wb_ask "question"``: the architect on the latest plan and profile (offline
        findings without an API key); asked again, a follow-up."""
        import workbench as wb

        question = " ".join(shlex.split(line)) if line.strip() else None
        try:
            if self.architect is not None and self.architect.evidence is not None and question:
                answer = self.architect.ask(question)
            else:
                ns = self.namespace
                plan, prof = ns.get("plan"), ns.get("prof")
                evidence = self._session().evidence(
                    plan=plan if isinstance(plan, wb.Plan) else None,
                    profile=prof if isinstance(prof, wb.Profile) else None,
                    question=question,
                )
                self.architect = wb.Architect()
                answer = self.architect.analyze(evidence, question=question)
        except WorkbenchError as exc:
            self._report(exc)
            return None
        self._save("answer", answer)
        return answer


def _parse(line: str, spec: dict[str, Any], *, positional: int = 0) -> dict[str, Any]:
    """The magic's options: ``--flag`` (bool), ``--name value`` or ``--name=value``; up to
    ``positional`` other words in ``_``. Anything else is refused with the valid options,
    rather than ignored (``--analyse`` must not quietly mean "no ANALYZE")."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise WorkbenchError(f"cannot read the options: {exc}", hint="check the quotes") from None
    valid = ", ".join(sorted(spec))
    out: dict[str, Any] = {"_": []}
    i = 0
    while i < len(words):
        word, value = words[i], None
        if word.startswith("--") and "=" in word:
            word, value = word.split("=", 1)
        kind = spec.get(word)
        if kind is None and word.startswith("-"):
            raise WorkbenchError(f"unknown option {word}", hint=f"the options are: {valid}")
        if kind is bool:
            if value is not None:
                raise WorkbenchError(f"{word} takes no value", hint=f"write just {word}")
            out[word] = True
        elif kind is not None:
            if value is None:
                if i + 1 >= len(words):
                    raise WorkbenchError(f"{word} needs a value", hint=f"e.g. {word} 100")
                i += 1
                value = words[i]
            try:
                out[word] = kind(value)
            except (ValueError, json.JSONDecodeError) as exc:
                raise WorkbenchError(f"bad value for {word}: {exc}") from None
        elif len(out["_"]) < positional:
            out["_"].append(word)
        else:
            raise WorkbenchError(
                f"unexpected {word!r}",
                hint=f"the options are: {valid}" + ("" if positional else "; SQL goes in the cell"),
            )
        i += 1
    return out


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (``%load_ext workbench``)."""
    ipython.register_magics(WorkbenchMagics)
