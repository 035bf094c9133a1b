"""What the database did while an HTTP profile ran, read from the server's own statistics.

PostgreSQL's ``pg_stat_statements`` and the ``performance_schema`` statement digests of MySQL
and MariaDB count every statement, whatever program sent it. An HTTP profile reads them before
and after its requests (and, one request at a time, between them) and keeps the differences:
:class:`ServerStatements`. Its :meth:`~ServerStatements.groups` and
:meth:`~ServerStatements.summary` have the shapes of :class:`~workbench.capture.Capture`'s, so
the N+1 candidates of an endpoint in any language read like those of a captured Python block:

>>> ss = ServerStatements(
...     source="pg_stat_statements", requests=10,
...     statements=[
...         {"sql": "SELECT * FROM orders WHERE user_id = $1", "calls": 500, "total_ms": 900.0},
...         {"sql": "SELECT * FROM users LIMIT $1", "calls": 10, "total_ms": 20.0},
...     ],
... )
>>> ss.repeated[["count", "calls", "sql"]].values.tolist()
[[50, 500, 'select * from orders where user_id = ?']]
>>> round(ss.db_ms_per_request, 1), ss.statements_per_request
(92.0, 51.0)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.capture import REPEATED_COLUMNS
from workbench.fingerprint import fingerprint, normalize

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["REPEAT_THRESHOLD", "ServerSideViews", "ServerStatements"]

#: an N+1 candidate runs at least this many times per request (as in a capture)
REPEAT_THRESHOLD = 5
#: statements that carry no values and are no N+1 however often they run
_UTILITY = re.compile(
    r"^\s*(begin|commit|rollback|start\s+transaction|savepoint|release|set\s|show\s|reset\s"
    r"|discard|deallocate|select\s+\?\s*$|select\s+1\s*$)",
    re.IGNORECASE,
)
_COLUMNS = [
    "fingerprint",
    "calls",
    "calls_per_request",
    "total_ms",
    "ms_per_request",
    "mean_ms",
    "rows",
    "blocks_hit",
    "blocks_read",
    "share",
    "sql",
]
_REPEATED = [*REPEATED_COLUMNS, "calls", "requests"]


@dataclass
class ServerStatements:
    """The statements the database counted during an HTTP profile's requests.

    ``statements``: one dict per statement (``sql`` as the server normalised it, ``calls``,
    ``total_ms``, ``rows``, ``blocks_hit``, ``blocks_read``), over ``requests`` requests.
    ``per_request``: fingerprint -> calls in each request, when each request's statements were
    read on their own (one request at a time). ``notes`` say how far the numbers can be trusted.
    """

    source: str  # "pg_stat_statements" | "performance_schema"
    requests: int
    statements: list[dict[str, Any]] = field(default_factory=list)
    per_request: dict[str, list[int]] = field(default_factory=dict)
    database: str = ""
    role: str | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for entry in self.statements:
            entry.setdefault("fingerprint", fingerprint(entry["sql"]))

    # -- numbers ----------------------------------------------------------------------------------
    @property
    def db_ms_per_request(self) -> float:
        """Database time per request, on average (ms)."""
        total = sum(float(e.get("total_ms") or 0.0) for e in self.statements)
        return total / self.requests if self.requests else math.nan

    @property
    def statements_per_request(self) -> float:
        """Statements per request, on average."""
        calls = sum(int(e.get("calls") or 0) for e in self.statements)
        return calls / self.requests if self.requests else math.nan

    def frame(self) -> pd.DataFrame:
        """One row per statement, most time first: calls in all and per request, time in all,
        per request and per call, rows, shared blocks hit and read, share of database time."""
        import pandas as pd

        total = sum(float(e.get("total_ms") or 0.0) for e in self.statements) or math.nan
        per = self.requests or math.nan
        rows = [
            {
                "fingerprint": e["fingerprint"],
                "calls": int(e.get("calls") or 0),
                "calls_per_request": int(e.get("calls") or 0) / per,
                "total_ms": float(e.get("total_ms") or 0.0),
                "ms_per_request": float(e.get("total_ms") or 0.0) / per,
                "mean_ms": float(e.get("total_ms") or 0.0) / max(int(e.get("calls") or 0), 1),
                "rows": e.get("rows"),
                "blocks_hit": e.get("blocks_hit"),
                "blocks_read": e.get("blocks_read"),
                "share": float(e.get("total_ms") or 0.0) / total,
                "sql": e["sql"],
            }
            for e in self.statements
        ]
        frame = pd.DataFrame(rows, columns=_COLUMNS)
        return frame.sort_values("total_ms", ascending=False, ignore_index=True)

    # -- in the shapes of a capture ----------------------------------------------------------
    def groups(self) -> list[dict[str, Any]]:
        """Statements as :meth:`Capture.groups` lists them, for one request: ``count`` is the
        calls per request (rounded), ``total_ms`` the time per request. The server keeps no
        values and no call sites: ``distinct_values`` is ``None``, ``call_sites`` empty."""
        out = []
        for row in self.frame().to_dict("records"):
            count = round(row["calls_per_request"]) if self.requests else row["calls"]
            out.append(
                {
                    "fingerprint": row["fingerprint"],
                    "sql": normalize(row["sql"]),
                    "count": count,
                    "distinct_values": None,
                    "total_ms": row["ms_per_request"] if self.requests else row["total_ms"],
                    "mean_ms": row["mean_ms"],
                    "call_sites": [],
                    "example": row["sql"],
                    "example_params": "",
                    "errors": 0,
                    "relationships": [],
                    "calls": row["calls"],
                    "requests": self.requests,
                }
            )
        return out

    def n_plus_one(self, threshold: int = REPEAT_THRESHOLD) -> list[dict[str, Any]]:
        """Statements with values (placeholders) run ``threshold`` times or more per request."""
        return [
            g
            for g in self.groups()
            if g["count"] >= threshold and "?" in g["sql"] and not _UTILITY.match(g["sql"])
        ]

    @property
    def repeated(self) -> pd.DataFrame:
        """N+1 candidates in :attr:`Capture.repeated`'s columns (``count``: calls per request),
        plus ``calls`` (in all) and ``requests``."""
        import pandas as pd

        rows = [
            {**g, "call_sites": "", "relationship": None, "distinct_values": None}
            for g in self.n_plus_one()
        ]
        return pd.DataFrame(rows, columns=_REPEATED)

    def summary(self) -> dict[str, Any]:
        """Per request, as :meth:`Capture.summary` counts one captured block: statements,
        distinct statements, database time, N+1 candidates."""
        return {
            "statements": self.statements_per_request,
            "distinct": len(self.statements),
            "db_ms": self.db_ms_per_request,
            "wall_ms": None,
            "errors": 0,
            "requests": self.requests,
            "source": self.source,
            "n_plus_one": [
                {
                    "sql": g["sql"],
                    "count": g["count"],
                    "total_ms": g["total_ms"],
                    "call_sites": [],
                    "relationships": [],
                    "per_request": True,  # count and time: per request, read by the server
                    "source": self.source,
                }
                for g in self.n_plus_one()
            ],
        }

    # -- saving -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "requests": self.requests,
            "statements": self.statements,
            "per_request": self.per_request,
            "database": self.database,
            "role": self.role,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServerStatements:
        return cls(
            source=str(data.get("source", "")),
            requests=int(data.get("requests", 0)),
            statements=[dict(e) for e in data.get("statements", [])],
            per_request={k: list(v) for k, v in (data.get("per_request") or {}).items()},
            database=str(data.get("database", "")),
            role=data.get("role"),
            notes=list(data.get("notes", [])),
        )

    def __repr__(self) -> str:
        return (
            f"<ServerStatements {self.statements_per_request:.1f} statements and "
            f"{self.db_ms_per_request:.1f} ms per request over {self.requests} requests "
            f"({self.source}), {len(self.n_plus_one())} N+1 candidates>"
        )


class ServerSideViews:
    """What :class:`~workbench.profiling.result.Profile` shows of an HTTP profile's database
    side (``prof.statements``, ``prof.repeated``, ``prof.split``)."""

    server: ServerStatements | None
    all_latencies_ms: np.ndarray
    error: np.ndarray
    extra: dict[str, np.ndarray]

    @property
    def statements(self) -> pd.DataFrame:
        """The statements the requests caused, read from the server (an HTTP profile): calls
        per request, time per request and per call, rows, blocks, share. Empty otherwise."""
        if self.server is None:
            import pandas as pd

            return pd.DataFrame(columns=_COLUMNS)
        return self.server.frame()

    @property
    def repeated(self) -> pd.DataFrame:
        """N+1 candidates among :attr:`statements`, in the form of ``Capture.repeated``
        (``count``: calls per request)."""
        if self.server is None:
            import pandas as pd

            return pd.DataFrame(columns=_REPEATED)
        return self.server.repeated

    @property
    def split(self) -> pd.DataFrame:
        """Each request's time in the database and outside it (the service's code, the
        network, the client). ``measured`` is true where the request's statements were read on
        their own (one request at a time); otherwise ``db_ms`` is the run's average."""
        import pandas as pd

        latency = self.all_latencies_ms
        status = self.extra.get("status", np.zeros(latency.size, dtype=np.int16))
        if "db_ms" in self.extra:
            db = self.extra["db_ms"].astype(np.float64)
            trips = self.extra["round_trips"].astype(np.float64)
            measured = True
        else:
            average = self.server.db_ms_per_request if self.server is not None else math.nan
            calls = self.server.statements_per_request if self.server is not None else math.nan
            db = np.full(latency.size, average)
            trips = np.full(latency.size, calls)
            measured = False
        return pd.DataFrame(
            {
                "request": np.arange(1, latency.size + 1),
                "latency_ms": latency,
                "db_ms": db,
                "outside_db_ms": np.maximum(latency - db, 0.0),
                "statements": trips,
                "status": status,
                "measured": measured,
            }
        )
