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

        args = _parse(line, {"--timeout": float})
        try:
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
        args = _parse(line, {"--save": str, "--params": json.loads})
        try:
            frame = self._session().query(cell, params=args.get("--params"))
        except WorkbenchError as exc:
            self._report(exc)
            return None
        self._save(args.get("--save", "df"), frame)
        return frame

    @cell_magic
    def explain(self, line: str, cell: str) -> Any:
        """``%%explain [--analyze] [--allow-writes] [--params JSON] [--save NAME]``."""
        args = _parse(
            line, {"--save": str, "--params": json.loads, "--analyze": bool, "--allow-writes": bool}
        )
        try:
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
        try:
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


def _parse(line: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A small option parser: ``--flag`` (bool) and ``--name value``; the rest in ``_``."""
    words = shlex.split(line)
    out: dict[str, Any] = {"_": []}
    i = 0
    while i < len(words):
        word = words[i]
        kind = spec.get(word)
        if kind is bool:
            out[word] = True
        elif kind is not None:
            if i + 1 >= len(words):
                raise WorkbenchError(f"{word} needs a value")
            try:
                out[word] = kind(words[i + 1])
            except (ValueError, json.JSONDecodeError) as exc:
                raise WorkbenchError(f"bad value for {word}: {exc}") from None
            i += 1
        else:
            out["_"].append(word)
        i += 1
    return out


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (``%load_ext workbench``)."""
    ipython.register_magics(WorkbenchMagics)
