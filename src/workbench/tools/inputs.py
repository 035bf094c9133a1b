"""What every tool does with its input and its output: the input checked (a clear refusal the
model reads, never an exception), statements shown redacted, numbers shown plainly."""

from __future__ import annotations

from typing import Any

from workbench.errors import ConfigurationError
from workbench.redaction import redact_sql
from workbench.tools.model import ToolContext

__all__ = ["PARAMS", "SQL", "integer_input", "number", "params_input", "shown_sql", "text_input"]

SQL = {"type": "string", "description": "one SQL statement"}
PARAMS = {
    "type": ["object", "array", "null"],
    "description": "values for the statement's placeholders (:name → an object, ? or $1 → an "
    "array); leave out when the statement has none",
}


def text_input(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{key} must be a non-empty string")
    return value


def params_input(data: dict[str, Any]) -> Any:
    value = data.get("params")
    if value in (None, {}, []):
        return None
    if not isinstance(value, dict | list):
        raise ConfigurationError("params must be an object or an array")
    return value


def integer_input(data: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ConfigurationError(f"{key} must be an integer")
    return max(low, min(int(value), high))


def shown_sql(box: ToolContext, sql: str) -> str:
    dialect = box.executor.dialect.name
    return redact_sql(sql, dialect) if box.redact_literals else sql


# -- the tools ----------------------------------------------------------------------------------


def number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}"
