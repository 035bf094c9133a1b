"""The demo shop's HTTP API: Starlette over the demo database, with the sample backend's ORM.

===============================================  ================================================
endpoint                                         what it does (and what is wrong with it)
===============================================  ================================================
``GET /api/users?page=1&per_page=50``           :func:`workbench.demo.app.list_users`: the
                                                 planted N+1 (one lazy load of ``user.orders``
                                                 per user, each a scan: no index on
                                                 ``orders.user_id``)
``GET /api/users?eager=1``                       :func:`~workbench.demo.app.list_users_fixed`:
                                                 the same answer in three statements
``GET /api/orders?status=shipped&user_id=4242``  a user's orders by status: ``orders.user_id``
                                                 has no index, every call scans ``orders``
                                                 (without ``user_id``: the newest of a status)
``GET /api/search?q=owalski``                    users whose e-mail contains ``q``: a leading
                                                 wildcard ``LIKE`` no B-tree index can serve
``GET /health``                                  ``ok`` (the launcher waits for it)
===============================================  ================================================

Handlers are plain functions (Starlette runs them in its thread pool), each with its own ORM
session, as a real service opens one per request.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["create_app"]

MAX_PER_PAGE = 500


def create_app(database_url: str, *, pool_size: int = 10) -> Starlette:
    """The API over the database at ``database_url`` (any engine the demo data loads into)."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from workbench.demo import app as shop
    from workbench.demo import schema

    engine = create_engine(
        database_url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )

    def users(request: Request) -> Response:
        page = _number(request, "page", 1)
        per_page = min(_number(request, "per_page", 50), MAX_PER_PAGE)
        handler = shop.list_users_fixed if _flag(request, "eager") else shop.list_users
        with Session(engine) as db:
            return _json(handler(db, page=page, per_page=per_page))

    def orders(request: Request) -> Response:
        status = request.query_params.get("status", "shipped")
        query = select(shop.Order).where(shop.Order.status == status)
        user = request.query_params.get("user_id")
        if user is not None:
            query = query.where(schema.orders.c.user_id == _number(request, "user_id", 0))
        query = query.order_by(shop.Order.created_at.desc()).limit(_number(request, "limit", 20))
        with Session(engine) as db:
            rows = db.scalars(query).all()
            return _json(
                [
                    {"id": o.id, "status": o.status, "total_cents": o.total_cents,
                     "created_at": o.created_at}
                    for o in rows
                ]
            )  # fmt: skip

    def search(request: Request) -> Response:
        term = request.query_params.get("q", "")
        query = (
            select(shop.User.id, shop.User.email, shop.User.full_name)
            .where(shop.User.email.like(f"%{term}%"))
            .order_by(shop.User.id)
            .limit(_number(request, "limit", 20))
        )
        with Session(engine) as db:
            return _json([dict(row._mapping) for row in db.execute(query)])

    def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with engine.connect() as conn:  # a wrong URL or a database without the data: now
            conn.execute(select(schema.users.c.id).limit(1)).all()
        yield
        engine.dispose()

    app = Starlette(
        routes=[
            Route("/api/users", users),
            Route("/api/orders", orders),
            Route("/api/search", search),
            Route("/health", health),
        ],
        exception_handlers={ValueError: _bad_request},
        lifespan=lifespan,
    )
    return app


def _number(request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    value = int(text)  # a ValueError is a 400 (see _bad_request)
    if value < 0:
        raise ValueError(f"{name} must be 0 or more")
    return value


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "0").lower() in ("1", "true", "yes")


def _json(data: Any) -> Response:
    from starlette.responses import Response

    body = json.dumps(data, default=_plain, separators=(",", ":"))
    return Response(body, media_type="application/json")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


async def _bad_request(request: Request, exc: Exception) -> Response:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(f"bad request: {exc}", status_code=400)
