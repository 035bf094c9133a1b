"""Reading PostgreSQL plans: the JSON document ``EXPLAIN (FORMAT JSON)`` returns, the TEXT
format as psql prints it (in any of its output formats, pasted from a terminal or an e-mail),
and the per-node times both give.

* :mod:`~workbench.plans.postgresql.document`: the JSON document into a :class:`Plan`;
* :mod:`~workbench.plans.postgresql.text`: TEXT into the JSON document's shape;
* :mod:`~workbench.plans.postgresql.frames`: psql's borders, headers and wrapping removed;
* :mod:`~workbench.plans.postgresql.timing`: exclusive times that add up to the root's.
"""

from __future__ import annotations

from workbench.plans.postgresql.document import from_postgres_json
from workbench.plans.postgresql.text import parse_pg_text, strip_psql_frames

__all__ = ["from_postgres_json", "parse_pg_text", "strip_psql_frames"]
