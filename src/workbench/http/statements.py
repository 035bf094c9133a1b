"""Reading the database's side of an HTTP profile: counters before, between and after requests.

:class:`StatementReader` takes a snapshot before the first measured request (after the
warm-up), one after each request when requests run one at a time, and one at the end. The
differences, without the workbench's own snapshots, become a
:class:`~workbench.profiling.server_side.ServerStatements`: each statement's calls, time, rows
and blocks over the run, the calls of each request, and notes on how far the numbers can be
trusted (other traffic on a shared database shows as counts that do not divide evenly by the
requests, or that differ from request to request).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench import formatting as fmt
from workbench.fingerprint import fingerprint
from workbench.profiling.server_side import ServerStatements

if TYPE_CHECKING:
    from workbench.http.snapshots import Counters, Counts

__all__ = ["StatementReader"]

_ZERO: Counts = (0, 0.0, 0, 0, 0)


class StatementReader:
    """Snapshots of one run; ``per_request`` reads each request's statements on their own."""

    def __init__(self, counters: Counters, *, per_request: bool) -> None:
        self.counters = counters
        self.per_request = per_request
        self.baseline: dict[Any, Counts] = {}
        self.last: dict[Any, Counts] = {}
        self.requests: list[dict[Any, Counts]] = []
        self.evicted = False

    def start(self) -> None:
        self.baseline = self.last = self.counters.take()

    def request_done(self) -> None:
        """After each request (one at a time): that request's statements."""
        now = self.counters.take()
        self.requests.append(self._delta(self.last, now))
        self.last = now

    def finish(
        self, requests: int
    ) -> tuple[ServerStatements, np.ndarray | None, np.ndarray | None]:
        """The run's statements, and (reading each request on its own) each request's
        database time and statement count."""
        end = self.counters.take()
        if self.per_request and len(self.requests) < requests:  # stopped between the two
            self.requests.append(self._delta(self.last, end))
        total = self._delta(self.baseline, end)
        texts = self.counters.texts(list(total))
        own = {key for key, text in texts.items() if self.counters.own(text)}
        by_print: dict[str, dict[str, Any]] = {}
        for key, (calls, ms, rows, hit, read) in total.items():
            if key in own or calls <= 0:
                continue
            text = texts.get(key) or f"(statement {key}: its text was evicted)"
            entry = by_print.setdefault(
                fingerprint(text),
                {"sql": text, "calls": 0, "total_ms": 0.0, "rows": 0, "blocks_hit": 0,
                 "blocks_read": 0},
            )  # fmt: skip
            entry["calls"] += calls
            entry["total_ms"] += ms
            entry["rows"] += rows
            entry["blocks_hit"] += hit
            entry["blocks_read"] += read
        keyed = {key: fingerprint(texts.get(key) or "") for key in total if key not in own}
        server = ServerStatements(
            source=self.counters.source,
            requests=requests,
            statements=list(by_print.values()),
            database=self.counters.database,
            role=self.counters.role,
        )
        db_ms = trips = None
        if self.per_request:
            per: dict[str, list[int]] = {fp: [0] * len(self.requests) for fp in by_print}
            db = np.zeros(len(self.requests))
            calls_each = np.zeros(len(self.requests), dtype=np.int64)
            for i, delta in enumerate(self.requests):
                for key, (calls, ms, *_rest) in delta.items():
                    fp = keyed.get(key)
                    if fp is None or fp not in per:
                        continue
                    per[fp][i] += calls
                    db[i] += ms
                    calls_each[i] += calls
            server.per_request = per
            db_ms, trips = db, calls_each
        server.notes = self._notes(server)
        return server, db_ms, trips

    # -- the differences --------------------------------------------------------------------------
    def _delta(self, before: dict[Any, Counts], after: dict[Any, Counts]) -> dict[Any, Counts]:
        out: dict[Any, Counts] = {}
        for key, now in after.items():
            then = before.get(key, _ZERO)
            if now[0] < then[0]:  # the entry was reset or evicted and came back
                self.evicted = True
                then = _ZERO
            if now[0] != then[0]:
                out[key] = (
                    now[0] - then[0],
                    now[1] - then[1],
                    now[2] - then[2],
                    now[3] - then[3],
                    now[4] - then[4],
                )
        if any(key not in after for key in before):
            self.evicted = True
        return out

    # -- how far to trust them ------------------------------------------------------------------
    def _notes(self, server: ServerStatements) -> list[str]:
        notes = []
        where = f"database {server.database}" + (f", role {server.role}" if server.role else "")
        how = "each request read on its own" if self.per_request else "before and after the run"
        notes.append(f"statements read from {server.source} ({where}), {how}")
        if self.evicted:
            notes.append(
                f"{server.source} dropped or reset entries during the run (pg_stat_statements.max "
                "or performance_schema_digests_size too small, or a reset): counts are lower "
                "bounds"
            )
        rows = server.frame().to_dict("records")
        if self.per_request:
            uneven = [
                (str(row["sql"]), server.per_request.get(str(row["fingerprint"]), []))
                for row in rows
                if len(set(server.per_request.get(str(row["fingerprint"]), []))) > 1
            ]
            if uneven:
                sql, counts = uneven[0]
                usual, seen = Counter(counts).most_common(1)[0]
                notes.append(
                    f"the requests did not all send the same statements (`{fmt.clip(sql, 70)}`: "
                    f"{usual} times in {seen} of {len(counts)} requests, {min(counts)}–"
                    f"{max(counts)} in the others): other traffic on the database, or requests "
                    "that differ (pages, caches)"
                )
        elif server.requests:
            uneven_rows = [row for row in rows if int(row["calls"]) % server.requests]
            if uneven_rows:
                sql, calls = str(uneven_rows[0]["sql"]), int(uneven_rows[0]["calls"])
                notes.append(
                    f"statement counts do not divide evenly by the {server.requests:,} requests "
                    f"(`{fmt.clip(sql, 70)}`: {calls:,} calls, "
                    f"{calls / server.requests:,.2f} per request): other traffic on the "
                    "database counts too, so these numbers are approximate; profile with "
                    "concurrency=1 to read each request's statements on its own"
                )
        return notes
