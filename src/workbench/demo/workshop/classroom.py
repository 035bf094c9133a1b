"""A class on one server: a database per learner, cloned from one template database.

``setup(url, learners=30)`` loads the demo data once into ``<prefix>_template`` (a few
seconds at the workshop's scale), then creates ``<prefix>_01`` … ``<prefix>_30`` with
``CREATE DATABASE … TEMPLATE``: a file copy, well under a second each, instead of thirty loads.
Each learner's notebook connects with ``WORKBENCH_WORKSHOP_URL`` pointing at their own
database (:func:`connect` reads it), so their checks never wait on each other's locks.
``teardown(url)`` drops what ``setup`` created for that prefix (and only that: each database
carries a comment naming its class and scale, so ``workshop`` never takes ``workshop_b``'s).
A class stays on one scale: setting it up again at another is refused unless ``replace``.

Without a class server, :func:`connect` starts the learner's own embedded PostgreSQL at the
workshop's scale (``WORKBENCH_DEMO_SCALE``, default :data:`DEFAULT_SCALE`), showing progress
the first time; if PostgreSQL cannot start, it says so: the workshop never falls back to
SQLite, whose plans teach none of this.

>>> learner_names(3)
['01', '02', '03']
>>> database_name("workshop", "Ada Lovelace")
'workshop_ada_lovelace'
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.demo.workshop.server import (
    admin_engine,
    class_comment,
    class_databases,
    comment_on,
    create_database,
    drop_databases,
    engine_for,
    execute,
    prepare_template,
    translated,
)
from workbench.errors import (
    ConfigurationError,
    EmbeddedServerError,
)
from workbench.redaction import mask_url

if TYPE_CHECKING:
    import pandas as pd

    from workbench.session import Session

__all__ = [
    "DEFAULT_SCALE",
    "MIN_SCALE",
    "SCALE_ENV",
    "URL_ENV",
    "ClassSetup",
    "LearnerDatabase",
    "connect",
    "database_name",
    "learner_names",
    "setup",
    "teardown",
    "workshop_scale",
]

#: the demo data's scale for a workshop: the planted queries take 5-100 ms, fixes 0.1 ms
DEFAULT_SCALE = 0.2
#: below this, the planted queries take a millisecond or two and no fix shows 10×
MIN_SCALE = 0.1
URL_ENV = "WORKBENCH_WORKSHOP_URL"
SCALE_ENV = "WORKBENCH_DEMO_SCALE"
_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def workshop_scale(scale: float | None = None) -> float:
    """``scale``, else ``WORKBENCH_DEMO_SCALE``, else :data:`DEFAULT_SCALE`; at least
    :data:`MIN_SCALE`.

    >>> workshop_scale(0.5)
    0.5
    """
    value = os.environ.get(SCALE_ENV) if scale is None else str(scale)
    if not value:
        return DEFAULT_SCALE
    try:
        chosen = float(value)
    except ValueError:
        raise ConfigurationError(
            f"{SCALE_ENV}={value!r} is not a number", hint="e.g. WORKBENCH_DEMO_SCALE=0.2"
        ) from None
    if chosen < MIN_SCALE:
        raise ConfigurationError(
            f"the workshop needs the demo data at a scale of {MIN_SCALE:g} or more, not "
            f"{chosen:g}: on less, the planted queries are too quick for a fix to measure 10× "
            "faster",
            hint=f"use {DEFAULT_SCALE:g} (the default) or more",
        )
    return chosen


def connect(
    url: str | None = None, *, scale: float | None = None, timeout: float = 60.0
) -> Session:
    """The learner's workshop database: ``url``, else ``WORKBENCH_WORKSHOP_URL`` (the class
    database the instructor set up; the demo data is loaded into it if missing), else the
    embedded PostgreSQL at :func:`workshop_scale`. Raises ``EmbeddedServerError`` when
    PostgreSQL cannot start, instead of falling back to SQLite.

    >>> s = wb.demo.workshop.connect()          # doctest: +SKIP
    workbench: starting the embedded PostgreSQL…
    """
    import workbench as wb

    target = url or os.environ.get(URL_ENV)
    if target:
        session = wb.connect(target, timeout=timeout)
        if session.dialect != "postgresql":
            session.close()
            raise ConfigurationError(
                f"the workshop runs on PostgreSQL, and {mask_url(target)} is {session.dialect}",
                hint=f"point {URL_ENV} at a PostgreSQL database",
            )
        if not wb.demo.is_loaded(session):
            wb.demo.load(session, scale=workshop_scale(scale), progress=True)
        return session
    from workbench.embedded import demo_database

    try:
        database = demo_database(scale=workshop_scale(scale), progress=True, fallback=False)
    except EmbeddedServerError as exc:
        raise EmbeddedServerError(
            "the workshop needs PostgreSQL, and the embedded one could not start: "
            + exc.message.splitlines()[0],
            hint=f"ask your instructor for the class database ({URL_ENV}), or pass "
            "wb.demo.workshop.connect('postgresql://...'); there is no SQLite fallback here: "
            "the checks measure PostgreSQL plans",
        ) from None
    return wb.connect(database.url, timeout=timeout)


def learner_names(learners: int | Sequence[str]) -> list[str]:
    """``01`` … ``NN`` for a count, else the given names made safe for database names."""
    if isinstance(learners, int):
        if not 1 <= learners <= 500:
            raise ConfigurationError(f"learners must be 1 to 500, not {learners}")
        width = max(2, len(str(learners)))
        return [f"{i:0{width}d}" for i in range(1, learners + 1)]
    names = [re.sub(r"[^a-z0-9_]+", "_", str(n).strip().lower()).strip("_") for n in learners]
    if not names or not all(names) or len(set(names)) != len(names):
        raise ConfigurationError(
            "learner names must be distinct and hold letters or digits",
            hint="e.g. --learners ada,grace,linus (or a number: --learners 30)",
        )
    return names


def database_name(prefix: str, learner: str) -> str:
    """The database of ``learner`` in the class ``prefix``."""
    if not _PREFIX.match(prefix):
        raise ConfigurationError(
            f"prefix {prefix!r} must be lower-case letters, digits and _ (up to 31)",
            hint="e.g. --prefix workshop",
        )
    return f"{prefix}_{learner_names([learner])[0]}"[:63]


@dataclass(frozen=True)
class LearnerDatabase:
    """One learner's database: ``url`` carries the credentials given to :func:`setup` (its
    repr and :attr:`shown_url` mask the password)."""

    learner: str
    database: str
    url: str = field(repr=False)
    created: bool = True

    @property
    def shown_url(self) -> str:
        return mask_url(self.url)


@dataclass
class ClassSetup:
    """What :func:`setup` did: the template, each learner's database, and how long it took."""

    template: str
    scale: float
    learners: list[LearnerDatabase]
    template_seconds: float
    seconds: float

    @property
    def created(self) -> int:
        return sum(1 for db in self.learners if db.created)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [(d.learner, d.database, d.shown_url, d.created) for d in self.learners],
            columns=["learner", "database", "url", "created"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "scale": self.scale,
            "template_seconds": round(self.template_seconds, 2),
            "seconds": round(self.seconds, 2),
            "learners": [
                {
                    "learner": d.learner,
                    "database": d.database,
                    "url": d.shown_url,
                    "created": d.created,
                }
                for d in self.learners
            ],
        }

    def __str__(self) -> str:
        lines = [
            f"template {self.template} (scale {self.scale:g}) ready in "
            f"{self.template_seconds:.1f} s; "
            f"{self.created} of {len(self.learners)} learner databases created, "
            f"{self.seconds:.1f} s in all",
        ]
        lines += [f"  {d.learner:<12} {URL_ENV}={d.shown_url}" for d in self.learners]
        return "\n".join(lines)


def setup(
    url: str,
    *,
    learners: int | Sequence[str],
    scale: float | None = None,
    prefix: str = "workshop",
    owner: str | None = None,
    replace: bool = False,
    progress: bool | Callable[[str], None] = True,
) -> ClassSetup:
    """Create a database per learner on the PostgreSQL server of ``url`` (an account that
    may create databases), cloned from ``<prefix>_template`` with the demo data at ``scale``.
    Existing learner databases are kept unless ``replace``; ``owner`` becomes the owner of the
    databases and the demo tables (the role learners connect as: it must own the tables to
    create indexes and statistics in the checks), and the learners' URLs name it (without a
    password: the hub's configuration adds it).

    A class keeps one scale: run again without ``scale``, it keeps the one it has; with a
    different one, it raises ``ConfigurationError`` rather than leave kept learners on the old
    scale, unless ``replace`` recreates them all.

    >>> wb.demo.workshop.setup("postgresql://admin@db/postgres", learners=30)  # doctest: +SKIP
    """
    from sqlalchemy import exc
    from sqlalchemy.engine import make_url

    import workbench as wb

    started = time.perf_counter()
    names = learner_names(learners)
    template = database_name(prefix, "template")
    wanted = [database_name(prefix, n) for n in names]
    if scale is not None:
        scale = workshop_scale(scale)
    from workbench.demo.load import reporter

    say = reporter(progress)
    admin = admin_engine(url)
    try:
        existing = class_databases(admin, prefix)
        replaced = {*wanted, template} if replace else set()
        scale = _class_scale(prefix, existing, scale, replaced=replaced)
        if replace:
            drop_databases(admin, [*wanted, template])
        say(f"preparing the template database {template} (scale {scale:g})")
        comment = class_comment("template", prefix, scale)
        if create_database(admin, template, template=None, owner=None, comment=comment):
            existing[template] = ("template", scale)
        execute(admin, f'ALTER DATABASE "{template}" WITH IS_TEMPLATE false ALLOW_CONNECTIONS true')
        template_url = make_url(url).set(database=template).render_as_string(hide_password=False)
        loader = engine_for(template_url)
        try:
            wb.demo.load(loader, scale=scale, progress=progress)
            prepare_template(loader, owner)
        except exc.DBAPIError as error:
            raise translated(error, loader) from None
        finally:
            loader.dispose()
        if template in existing:  # ours: say the scale it holds now (a reload may change it)
            comment_on(admin, template, comment)
        execute(admin, f'ALTER DATABASE "{template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
        template_seconds = time.perf_counter() - started
        databases = []
        comment = class_comment("learner", prefix, scale)
        for number, (learner, name) in enumerate(zip(names, wanted, strict=True), start=1):
            created = create_database(admin, name, template=template, owner=owner, comment=comment)
            if created and (number == 1 or number % 10 == 0 or number == len(names)):
                say(f"created {number} of {len(names)} learner databases")
            target = make_url(url).set(database=name)
            if owner:  # learners connect as the owner role (its password is the hub's to add)
                target = target.set(username=owner, password=None)
            learner_url = target.render_as_string(hide_password=False)
            databases.append(LearnerDatabase(learner, name, learner_url, created))
    finally:
        admin.dispose()
    return ClassSetup(template, scale, databases, template_seconds, time.perf_counter() - started)


def teardown(url: str, *, prefix: str = "workshop") -> list[str]:
    """Drop the learner databases and the template :func:`setup` created for ``prefix``, and
    no others: not another class's whose prefix starts the same (``workshop_b``), nor a
    database setup did not create (recognised by the comment naming the class). Connected
    sessions are ended. Returns the names dropped."""
    database_name(prefix, "template")  # the prefix is checked before the server is asked
    admin = admin_engine(url)
    try:
        names = sorted(class_databases(admin, prefix))
        drop_databases(admin, names)
    finally:
        admin.dispose()
    return names


def _class_scale(
    prefix: str,
    existing: dict[str, tuple[str, float | None]],
    scale: float | None,
    *,
    replaced: set[str],
) -> float:
    """``scale``, else the class's own, else :func:`workshop_scale`; refused when learner
    databases that stay hold another (the class would run on two scales)."""
    kept = {n: s for n, (_, s) in existing.items() if n not in replaced and s is not None}
    scales = {f"{s:g}" for s in kept.values()}
    if scale is None:
        scale = float(scales.pop()) if len(scales) == 1 else workshop_scale()
    other = sorted(
        n
        for n, (kind, s) in existing.items()
        if n in kept and kind == "learner" and f"{s:g}" != f"{scale:g}"
    )
    if other:
        was = ", ".join(sorted({f"{kept[n]:g}" for n in other}))
        shown = ", ".join(other[:3]) + (f" and {len(other) - 3} more" if len(other) > 3 else "")
        raise ConfigurationError(
            f"the class {prefix} is set up at scale {was} ({shown}), not {scale:g}: its "
            "learners would work on different data",
            hint=f"leave out the scale to keep {was}; or recreate these databases at {scale:g} "
            "with --replace (replace=True), --learners naming them all (what learners changed "
            f"in them is lost); or workbench workshop teardown --prefix {prefix} first",
        )
    return scale
