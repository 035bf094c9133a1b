"""Personas: Claude Code agent files (YAML front matter, then the prompt).

The package ships ``personas/backend-architect.md``; any agent file works too (the original
``backend-architect.md`` a team already uses, or a person's own). ``model: sonnet|opus|haiku``
maps to the newest model id the installed ``anthropic`` SDK knows for that family;
``WORKBENCH_MODEL`` and an explicit argument override it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from workbench.errors import ConfigurationError

__all__ = [
    "DEFAULT_PERSONA",
    "Persona",
    "load_persona",
    "newest_model",
    "parse_persona",
    "resolve_model",
]

DEFAULT_PERSONA = "backend-architect"
FAMILIES = ("sonnet", "opus", "haiku")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<meta>.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


@dataclass(frozen=True)
class Persona:
    """An agent: its name, description, model family or id, and its prompt."""

    name: str
    prompt: str
    description: str = ""
    model: str | None = None
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def load_persona(source: str | Path | None = None) -> Persona:
    """The shipped persona (``None`` or its name), or an agent file at a path.

    >>> load_persona().name
    'backend-architect'
    """
    if source is None or source == DEFAULT_PERSONA:
        text = (
            resources.files("workbench.personas")
            .joinpath(f"{DEFAULT_PERSONA}.md")
            .read_text(encoding="utf-8")
        )
        return parse_persona(text, source=f"workbench:{DEFAULT_PERSONA}")
    path = Path(source).expanduser()
    if not path.is_file():
        raise ConfigurationError(
            f"no persona file at {path}",
            hint="pass the path of a Claude Code agent file (.md with YAML front matter), or "
            "nothing for the shipped backend-architect",
        )
    return parse_persona(path.read_text(encoding="utf-8"), source=str(path))


def parse_persona(text: str, *, source: str = "") -> Persona:
    """Read an agent file's text."""
    import yaml

    match = _FRONT_MATTER.match(text)
    if not match:
        raise ConfigurationError(
            f"{source or 'the persona'} has no YAML front matter",
            hint="an agent file starts with '---', name/description/model lines, '---', then the "
            "prompt",
        )
    try:
        meta = yaml.safe_load(match.group("meta")) or {}
    except yaml.YAMLError:
        # Claude Code reads agent files leniently (a description full of unquoted colons is
        # common): one "key: value" per line, the value taken verbatim
        meta = _lenient_front_matter(match.group("meta"))
    if not isinstance(meta, dict):
        raise ConfigurationError(f"the front matter of {source} is not a mapping of keys")
    prompt = text[match.end() :].strip()
    if not prompt:
        raise ConfigurationError(f"{source} has no prompt after its front matter")
    model = meta.get("model")
    return Persona(
        name=str(meta.get("name") or Path(source).stem or "persona"),
        prompt=prompt,
        description=str(meta.get("description") or ""),
        model=str(model) if model else None,
        source=source,
        meta=meta,
    )


def _lenient_front_matter(text: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    key = None
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z_][\w-]*):(?:\s+(.*))?$", line)
        if match:
            key = match.group(1)
            meta[key] = (match.group(2) or "").strip().strip('"').replace("\\n", "\n")
        elif key and line.startswith((" ", "\t")):
            meta[key] = f"{meta[key]} {line.strip()}".strip()
    if not meta:
        raise ConfigurationError("the persona's front matter has no 'key: value' lines")
    return meta


def resolve_model(requested: str | None = None, persona: Persona | None = None) -> str:
    """The model id to call: the argument, else ``WORKBENCH_MODEL``, else the persona's
    ``model`` (a family name maps to the newest id of that family in the installed SDK)."""
    choice = requested or os.environ.get("WORKBENCH_MODEL") or (persona.model if persona else None)
    if not choice or choice == "inherit":
        choice = "sonnet"
    if choice in FAMILIES:
        return newest_model(choice)
    return choice


def newest_model(family: str) -> str:
    """The newest undated model id of ``family`` among the ids the SDK's types list."""
    ids = _known_models()
    best: tuple[tuple[int, ...], str] | None = None
    for model_id in ids:
        match = re.fullmatch(rf"claude-{family}-(\d+)(?:-(\d+))?", model_id)
        if not match:
            continue
        version = tuple(int(g) for g in match.groups() if g is not None)
        if best is None or version > best[0]:
            best = (version, model_id)
    if best is None:
        dated = sorted(m for m in ids if family in m)
        if not dated:
            raise ConfigurationError(
                f"the installed anthropic SDK knows no {family} model",
                hint="pass model='claude-...' or set WORKBENCH_MODEL",
            )
        return dated[-1]
    return best[1]


def _known_models() -> list[str]:
    from typing import get_args

    from anthropic.types import model_param

    found: list[str] = []

    def walk(tp: Any) -> None:
        for arg in get_args(tp):
            if isinstance(arg, str):
                found.append(arg)
            else:
                walk(arg)

    walk(model_param.ModelParam)
    return found
