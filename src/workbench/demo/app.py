"""The sample backend: a few handlers of a SaaS shop, written the way real apps are.

SQLAlchemy ORM models with lazily loaded relationships (the default), and handlers that read
naturally and hide their queries. ``list_users()`` is the ``GET /api/users`` endpoint from the
story "/api/users takes 3 seconds": it loads a page of users, then touches ``user.orders`` and
``user.account`` for each, so the ORM sends one query per user per relationship (N+1), and each
``orders`` query scans the whole table because ``orders.user_id`` has no index.

>>> import workbench as wb
>>> from sqlalchemy.orm import Session
>>> s = wb.connect()                                            # doctest: +SKIP
>>> with s.capture() as cap, Session(s.engine) as db:           # doctest: +SKIP
...     wb.demo.app.list_users(db)
>>> cap.repeated                                                # doctest: +SKIP

``list_users_fixed()`` is the same endpoint done right: two queries whatever the page size.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, relationship, selectinload

from workbench.demo import schema

__all__ = [
    "Account",
    "Event",
    "Order",
    "OrderItem",
    "Product",
    "User",
    "find_user_by_email",
    "list_users",
    "list_users_fixed",
    "recent_orders_page",
]


class Base(DeclarativeBase):
    metadata = schema.metadata


class Account(Base):
    __table__ = schema.accounts
    id: Mapped[int]
    name: Mapped[str]
    users: Mapped[list[User]] = relationship(back_populates="account")


class User(Base):
    __table__ = schema.users
    id: Mapped[int]
    email: Mapped[str]
    full_name: Mapped[str]
    status: Mapped[str]
    created_at: Mapped[datetime]
    account: Mapped[Account] = relationship(back_populates="users")  # lazy="select": N+1
    orders: Mapped[list[Order]] = relationship(back_populates="user")  # lazy="select": N+1


class Product(Base):
    __table__ = schema.products
    id: Mapped[int]
    name: Mapped[str]


class Order(Base):
    __table__ = schema.orders
    id: Mapped[int]
    total_cents: Mapped[int]
    status: Mapped[str]
    created_at: Mapped[datetime]
    user: Mapped[User] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(back_populates="order")


class OrderItem(Base):
    __table__ = schema.order_items
    id: Mapped[int]
    quantity: Mapped[int]
    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()


class Event(Base):
    __table__ = schema.events
    id: Mapped[int]


def list_users(db: Session, *, page: int = 1, per_page: int = 50) -> list[dict[str, Any]]:
    """``GET /api/users``: the newest active users with their order statistics.

    Slow on purpose, the way it happens in real code: 1 query for the page, then per user one
    lazy load of ``user.orders`` (a full scan of ``orders``: no index on ``user_id``) and one of
    ``user.account``.
    """
    users = db.scalars(
        select(User)
        .where(User.status == "active")
        .order_by(User.created_at.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return [_user_summary(user, user.orders) for user in users]


def list_users_fixed(db: Session, *, page: int = 1, per_page: int = 50) -> list[dict[str, Any]]:
    """The same response in a constant number of queries: eager-load orders with one
    ``SELECT ... WHERE user_id IN (...)`` and accounts with a join. Fast once
    ``orders.user_id`` is indexed."""
    from sqlalchemy.orm import joinedload

    users = db.scalars(
        select(User)
        .options(selectinload(User.orders), joinedload(User.account))
        .where(User.status == "active")
        .order_by(User.created_at.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return [_user_summary(user, user.orders) for user in users]


def _user_summary(user: User, orders: list[Order]) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.full_name,
        "account": user.account.name,
        "orders": len(orders),
        "lifetime_value_cents": sum(o.total_cents for o in orders),
        "last_order_at": max((o.created_at for o in orders), default=None),
    }


def find_user_by_email(db: Session, email: str) -> User | None:
    """``POST /login``: case-insensitive e-mail lookup. ``lower(email) = ...`` cannot use the
    unique index on ``email`` (a non-sargable predicate): every login scans ``users``."""
    return db.scalars(select(User).where(func.lower(User.email) == email.lower())).first()


def recent_orders_page(db: Session, *, page: int, per_page: int = 20) -> list[Order]:
    """``GET /api/orders?page=N``: OFFSET pagination. Page 10,000 makes the database produce
    and throw away 200,000 rows before returning 20."""
    return list(
        db.scalars(
            select(Order)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
