"""Table aliases in plans: MySQL, MariaDB and SQLite print the alias (``SCAN o``), not the
table; the statement's text says which table each alias stands for."""

from __future__ import annotations

from workbench.plans.model import Plan

__all__ = ["resolve_aliases"]


def resolve_aliases(plan: Plan, sql: str, dialect: str) -> None:
    """Put the real table name in ``relation`` and the alias in ``alias`` where the plan
    names a table by its alias."""
    import sqlglot
    from sqlglot import exp

    from workbench.sqltext import sqlglot_dialect

    try:
        tree = sqlglot.parse_one(sql, read=sqlglot_dialect(dialect))
    except Exception:  # unparseable SQL: the aliases stay as the engine printed them
        return
    aliases = {t.alias_or_name: t.name for t in tree.find_all(exp.Table) if t.name}
    for node in plan.nodes:
        if node.relation and node.relation in aliases and aliases[node.relation] != node.relation:
            node.alias, node.relation = node.relation, aliases[node.relation]
