"""The demo backend's tables, declared once for every engine (SQLAlchemy Core).

A small SaaS shop: accounts have users, users place orders of products, and an event log records
what users do. The indexes are what a busy team would have shipped, which is to say not quite
enough: ``orders.user_id`` and ``order_items.product_id`` are foreign keys without an index (the
planted ``unindexed_foreign_key`` / ``missing_index`` pathology); everything else a reasonable
team would index is indexed. Two indexes too many are planted as well, for ``s.health()``:
``events_user_idx`` duplicates ``events_user_id_idx``, and nothing uses
``orders_shipping_country_created_at_idx``. See ``data/README.md`` for the full story.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = ["MARKER_TABLE", "SECONDARY_INDEXES", "TABLE_ORDER", "metadata"]

metadata = MetaData()

# autoincrement=False: the generator supplies ids, so every engine gets identical rows
accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(120), nullable=False),
    Column("plan", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("email", String(200), nullable=False),
    Column("full_name", String(120), nullable=False),
    Column("country", String(2), nullable=False),
    Column("city", String(60), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_login_at", DateTime),
)

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("sku", String(20), nullable=False),
    Column("name", String(120), nullable=False),
    Column("category", String(40), nullable=False),
    Column("subcategory", String(40), nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("description", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),  # planted: no index
    Column("status", String(20), nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("shipping_country", String(2), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

order_items = Table(
    "order_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),  # no index either
    Column("quantity", Integer, nullable=False),
    Column("unit_price_cents", Integer, nullable=False),
    Column("discount", Float, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("type", String(30), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("payload", Text, nullable=False),  # ~0.5 kB of JSON: SELECT * drags it along
)

# Created after the bulk load (faster than maintaining them row by row).
SECONDARY_INDEXES = [
    Index("users_email_key", users.c.email, unique=True),
    Index("users_account_id_idx", users.c.account_id),
    Index("users_created_at_idx", users.c.created_at),
    Index("products_sku_key", products.c.sku, unique=True),
    Index("products_category_idx", products.c.category),
    Index("orders_created_at_idx", orders.c.created_at),
    Index("orders_status_idx", orders.c.status),
    Index("order_items_order_id_idx", order_items.c.order_id),
    Index("events_user_id_idx", events.c.user_id),
    Index("events_created_at_idx", events.c.created_at),
    # planted for s.health(): a second index on events.user_id under another name (a framework
    # indexing every foreign key on top of the team's own), and an index for a shipping report
    # retired long ago, which no query uses (wide enough that no count(*) picks it either)
    Index("events_user_idx", events.c.user_id),
    Index("orders_shipping_country_created_at_idx", orders.c.shipping_country, orders.c.created_at),
]

# Parents before children (load order; reverse for drop).
TABLE_ORDER = ("accounts", "users", "products", "orders", "order_items", "events")

# One row saying which dataset version and scale a database holds.
MARKER_TABLE = Table(
    "workbench_demo",
    MetaData(),
    Column("dataset_version", Integer, nullable=False),
    Column("scale", Float, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("loaded_at", DateTime, nullable=False),
)
