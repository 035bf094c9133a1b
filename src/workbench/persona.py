"""Personas: Claude Code agent files (YAML front matter, then the prompt).

The package ships ``personas/backend-architect.md``; any agent file works too (the original
``backend-architect.md`` a team already uses, or a person's own), given as a path or by name:
a name is looked up as Claude Code does, in the project's ``.claude/agents/`` (this folder or
the nearest parent that has one), then the user's ``~/.claude/agents/``, by file name or by
the ``name:`` in the front matter. ``model: sonnet|opus|haiku`` maps to the newest model id
the installed ``anthropic`` SDK knows for that family; ``WORKBENCH_MODEL`` and an explicit
argument override it. A ``tools:`` line limits the workbench tools the persona may call.
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
    "agent_folders",
    "load_persona",
    "newest_model",
    "parse_persona",
    "provider_model",
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

    @property
    def tools(self) -> list[str] | None:
        """The tool names of the front matter's ``tools:`` line (``None``: no line, every
        tool). An MCP tool name (``mcp__workbench__explain``) counts as its last part."""
        value = self.meta.get("tools")
        if value is None or value == "":
            return None
        items = value if isinstance(value, list) else str(value).split(",")
        names = [str(item).strip() for item in items if str(item).strip()]
        if "*" in names:
            return None
        return [name.rsplit("__", 1)[-1] if name.startswith("mcp__") else name for name in names]


def load_persona(source: str | Path | None = None) -> Persona:
    """The shipped persona (``None``), an agent file at a path, or an agent by name (the
    project's ``.claude/agents/``, then the user's, then the shipped one).

    >>> load_persona().name
    'backend-architect'
    """
    if source is None:
        return _shipped()
    path = Path(source).expanduser()
    if path.is_file():
        return parse_persona(path.read_text(encoding="utf-8"), source=str(path))
    text = str(source)
    is_name = re.fullmatch(r"[\w.-]+", text) is not None and not text.endswith(".md")
    if is_name:
        found = _by_name(text)
        if found is not None:
            return found
        if text == DEFAULT_PERSONA:
            return _shipped()
        looked = ", ".join(str(folder) for folder in agent_folders()) or "no .claude/agents folder"
        raise ConfigurationError(
            f"no agent named {text!r} (looked in {looked})",
            hint="pass the path of an agent file, or put <name>.md in .claude/agents/ (the "
            "project's) or ~/.claude/agents/ (yours)",
        )
    raise ConfigurationError(
        f"no persona file at {path}",
        hint="pass the path of a Claude Code agent file (.md with YAML front matter), its "
        "name, or nothing for the shipped backend-architect",
    )


def agent_folders(start: Path | None = None) -> list[Path]:
    """Where agents are looked up by name, in order: the project's ``.claude/agents`` (the
    nearest one from ``start``, default the working folder), then ``~/.claude/agents``."""
    folders = []
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / ".claude" / "agents"
        if candidate.is_dir():
            folders.append(candidate)
            break
    user = Path.home() / ".claude" / "agents"
    if user.is_dir() and user not in folders:
        folders.append(user)
    return folders


def _by_name(name: str) -> Persona | None:
    for folder in agent_folders():
        exact = folder / f"{name}.md"
        if exact.is_file():
            return parse_persona(exact.read_text(encoding="utf-8"), source=str(exact))
        for path in sorted(folder.glob("*.md")):
            try:
                persona = parse_persona(path.read_text(encoding="utf-8"), source=str(path))
            except (ConfigurationError, OSError, UnicodeDecodeError):
                continue  # another agent's file that does not read: not this one
            if persona.name == name:
                return persona
    return None


def _shipped() -> Persona:
    text = (
        resources.files("workbench.personas")
        .joinpath(f"{DEFAULT_PERSONA}.md")
        .read_text(encoding="utf-8")
    )
    return parse_persona(text, source=f"workbench:{DEFAULT_PERSONA}")


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
        raise ConfigurationError(
            f"the installed anthropic SDK knows no current {family} model",
            hint="pass model='claude-...' or set WORKBENCH_MODEL (or upgrade anthropic)",
        )
    return best[1]


def provider_model(model_id: str, provider: str) -> str:
    """``model_id`` as ``provider`` names it: ``"anthropic"`` as is, ``"vertex"`` with its
    ``@date`` and ``"bedrock"`` as ``anthropic.<id>-<date>-v1:0`` where the SDK knows a dated
    release of it, else the newer undated forms (``<id>``, ``anthropic.<id>-v1``). An id
    already in the provider's form is kept.

    >>> provider_model("claude-opus-4-5", "vertex")
    'claude-opus-4-5@20251101'
    >>> provider_model("claude-opus-4-5", "bedrock")
    'anthropic.claude-opus-4-5-20251101-v1:0'
    """
    if (
        provider == "anthropic"
        or "@" in model_id
        or model_id.startswith(("anthropic.", "us.", "eu.", "apac.", "global.", "arn:"))
    ):
        return model_id
    dated = sorted(
        m for m in _known_models() if re.fullmatch(rf"{re.escape(model_id)}-(\d{{8}})", m)
    )
    date = dated[-1].rsplit("-", 1)[1] if dated else None
    if re.search(r"-\d{8}$", model_id):  # already dated
        model_id, date = model_id.rsplit("-", 1)
    if provider == "vertex":
        return f"{model_id}@{date}" if date else model_id
    if provider == "bedrock":
        return f"anthropic.{model_id}-{date}-v1:0" if date else f"anthropic.{model_id}-v1"
    raise ConfigurationError(f"unknown provider {provider!r}", hint="anthropic, vertex or bedrock")


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
