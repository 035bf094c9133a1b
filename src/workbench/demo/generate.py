"""The demo data, generated deterministically with numpy (same seed, same rows, every engine).

About 1.7 million rows at ``scale=1`` in a few seconds. The distributions are the point, because
they are what the planted pathologies feed on:

* skew: account 1 ("Acme Corp", enterprise) owns ~8% of all users, and a few hundred accounts
  own most of the rest; order counts per user are heavy-tailed;
* correlation the planner cannot see: a user's ``city`` determines their ``country``;
  ``orders.status = 'pending'`` only occurs in the last two weeks; a product's ``subcategory``
  determines its ``category``;
* physical order: order ids grow with ``created_at`` (as in a real append-only table);
* wide rows: ``events.payload`` and ``products.description`` are a few hundred bytes each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from workbench.demo import vocabulary as vocab
from workbench.errors import ConfigurationError

__all__ = ["BASE_ROWS", "DATASET_VERSION", "DEMO_NOW", "SEED", "generate", "row_counts"]

SEED = 20_251_130
DATASET_VERSION = 3  # 3: planted duplicate and unused indexes, dead rows, the workload
# A fixed "now" keeps the data and the catalogue's date literals stable forever.
DEMO_NOW = datetime(2025, 6, 30, 23, 59, 59)
HISTORY_DAYS = 3 * 365

BASE_ROWS = {
    "accounts": 5_000,
    "users": 100_000,
    "products": 5_000,
    "orders": 400_000,
    "order_items": 800_000,
    "events": 400_000,
}


def row_counts(scale: float = 1.0) -> dict[str, int]:
    """Rows per table at ``scale`` (order_items is approximate: 1-4 items per order)."""
    _check_scale(scale)
    return {name: max(_MINIMUM[name], round(n * scale)) for name, n in BASE_ROWS.items()}


_MINIMUM = {
    "accounts": 20,
    "users": 200,
    "products": 50,
    "orders": 800,
    "order_items": 1_600,
    "events": 800,
}


@dataclass(frozen=True)
class _Clock:
    now: np.datetime64
    start: np.datetime64

    def between(
        self, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, power: float = 1.0
    ) -> np.ndarray:
        """Timestamps (whole seconds) between lo and hi, element-wise; ``power`` > 1 leans
        towards ``lo``, < 1 towards ``hi``."""
        span = (hi - lo).astype("timedelta64[s]").astype(np.int64)
        offset = (rng.random(len(lo)) ** power * np.maximum(span, 1)).astype(np.int64)
        stamps: np.ndarray = lo + offset.astype("timedelta64[s]")
        return stamps


def generate(scale: float = 1.0, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """All demo tables as DataFrames, keyed by table name, in load order."""
    _check_scale(scale)
    counts = row_counts(scale)
    rng = np.random.default_rng(seed)
    now = np.datetime64(DEMO_NOW, "s")
    clock = _Clock(now=now, start=now - np.timedelta64(HISTORY_DAYS, "D"))
    accounts = _accounts(rng, counts["accounts"], clock)
    users = _users(rng, counts["users"], accounts, clock)
    products = _products(rng, counts["products"], clock)
    orders, items = _orders_and_items(
        rng, counts["orders"], counts["order_items"], users, products, clock
    )
    events = _events(rng, counts["events"], users, clock)
    return {
        "accounts": accounts,
        "users": users,
        "products": products,
        "orders": orders,
        "order_items": items,
        "events": events,
    }


def _check_scale(scale: float) -> None:
    if not (0 < scale <= 20):
        raise ConfigurationError(
            f"scale must be in (0, 20], not {scale!r}",
            hint="1.0 ≈ 1.7 million rows; 0.05 loads in about a second",
        )


def _pick(
    rng: np.random.Generator,
    options: tuple[str, ...],
    n: int,
    weights: tuple[float, ...] | None = None,
) -> np.ndarray:
    p = None if weights is None else np.asarray(weights, dtype=float) / sum(weights)
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p)]


def _accounts(rng: np.random.Generator, n: int, clock: _Clock) -> pd.DataFrame:
    ids = np.arange(1, n + 1)
    plan = _pick(rng, ("free", "pro", "enterprise"), n, (0.70, 0.25, 0.05))
    plan[0] = "enterprise"
    names = (
        _pick(rng, vocab.COMPANY_WORDS, n)
        + " "
        + _pick(rng, vocab.COMPANY_WORDS, n)
        + " "
        + _pick(rng, vocab.COMPANY_SUFFIXES, n)
    )
    names[0] = "Acme Corp"
    countries = _pick(rng, vocab.COUNTRY_CODES, n, vocab.COUNTRY_WEIGHTS)
    created = clock.between(
        rng, np.full(n, clock.start), np.full(n, clock.now - np.timedelta64(30, "D"))
    )
    created[0] = clock.start
    return pd.DataFrame(
        {"id": ids, "name": names, "plan": plan, "country": countries, "created_at": created}
    )


def _users(rng: np.random.Generator, n: int, accounts: pd.DataFrame, clock: _Clock) -> pd.DataFrame:
    ids = np.arange(1, n + 1)
    plan_weight = accounts["plan"].map({"free": 1.0, "pro": 4.0, "enterprise": 40.0}).to_numpy()
    weights = plan_weight * rng.lognormal(0.0, 1.0, len(accounts))
    weights[0] = 0.0
    weights = weights / weights.sum() * 0.92
    weights[0] = 0.08  # Acme Corp: the skew that fools a generic plan
    account_idx = rng.choice(len(accounts), size=n, p=weights)
    account_ids = accounts["id"].to_numpy()[account_idx]
    account_country = accounts["country"].to_numpy()[account_idx]
    own_country = _pick(rng, vocab.COUNTRY_CODES, n, vocab.COUNTRY_WEIGHTS)
    country = np.where(rng.random(n) < 0.7, account_country, own_country)
    city = np.empty(n, dtype=object)
    for code in vocab.COUNTRY_CODES:  # city depends on country: correlated columns
        mask = country == code
        city[mask] = _pick(rng, vocab.CITIES[code], int(mask.sum()))
    first = _pick(rng, vocab.FIRST_NAMES, n)
    last = _pick(rng, vocab.LAST_NAMES, n)
    domain = _pick(rng, vocab.EMAIL_DOMAINS, n)
    # Mixed case, as people type them: lower(email) = ... cannot use the plain email index
    email = first + "." + last + pd.Series(ids).astype(str).to_numpy() + "@" + domain
    full_name = first + " " + last
    status = _pick(rng, ("active", "invited", "suspended", "deleted"), n, (0.88, 0.06, 0.04, 0.02))
    acct_created = accounts["created_at"].to_numpy()[account_idx]
    created = clock.between(rng, acct_created, np.full(n, clock.now - np.timedelta64(1, "D")))
    created = np.sort(created)  # user ids grow with signup time
    since_signup = clock.between(rng, created, np.full(n, clock.now))
    last_login = pd.Series(since_signup).where(rng.random(n) > 0.10)
    return pd.DataFrame(
        {
            "id": ids,
            "account_id": account_ids,
            "email": email,
            "full_name": full_name,
            "country": country,
            "city": city,
            "status": status,
            "created_at": created,
            "last_login_at": last_login,
        }
    )


def _products(rng: np.random.Generator, n: int, clock: _Clock) -> pd.DataFrame:
    ids = np.arange(1, n + 1)
    categories = tuple(vocab.CATEGORIES)
    category = _pick(rng, categories, n, tuple(range(len(categories), 0, -1)))
    sub = np.empty(n, dtype=object)
    for name in categories:
        mask = category == name
        sub[mask] = _pick(rng, vocab.CATEGORIES[name], int(mask.sum()))
    adjective = _pick(rng, vocab.PRODUCT_ADJECTIVES, n)
    name = adjective + " " + sub + " " + pd.Series(ids % 97).astype(str).to_numpy()
    price = np.round(rng.lognormal(7.6, 0.9, n)).astype(np.int64) + 99
    sku = pd.Series(ids).map("SKU-{:06d}".format).to_numpy()
    description = (
        "The "
        + adjective
        + " "
        + sub
        + " for teams who care about "
        + _pick(rng, vocab.BENEFITS, n)
        + ". "
        + _pick(rng, vocab.BLURBS, n)
        + " "
        + _pick(rng, vocab.BLURBS, n)
        + " "
        + _pick(rng, vocab.BLURBS, n)
    )
    created = clock.between(rng, np.full(n, clock.start), np.full(n, clock.now))
    return pd.DataFrame(
        {
            "id": ids,
            "sku": sku,
            "name": name,
            "category": category,
            "subcategory": sub,
            "price_cents": price,
            "is_active": rng.random(n) < 0.95,
            "description": description,
            "created_at": created,
        }
    )


def _orders_and_items(
    rng: np.random.Generator,
    n_orders: int,
    n_items: int,
    users: pd.DataFrame,
    products: pd.DataFrame,
    clock: _Clock,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Heavy-tailed buyers: a few users order a lot, most a little, some never. Order times are
    # spread over the whole history (growing slowly); each order goes to a user who had signed
    # up by then (users are sorted by signup time, so that is a prefix of the table).
    buyer_weight = rng.lognormal(0.0, 1.3, len(users)) * (users["status"] != "invited").to_numpy()
    signed_up = users["created_at"].to_numpy()
    first = signed_up[0] + np.timedelta64(1, "h")
    created = np.sort(
        clock.between(rng, np.full(n_orders, first), np.full(n_orders, clock.now), power=0.8)
    )
    cumulative = np.cumsum(buyer_weight)
    known = np.maximum(np.searchsorted(signed_up, created, side="right"), 1)
    user_idx = np.searchsorted(
        cumulative, rng.random(n_orders) * cumulative[known - 1], side="right"
    )
    user_idx = np.minimum(user_idx, known - 1)
    ids = np.arange(1, n_orders + 1)
    age_days = (clock.now - created).astype("timedelta64[s]").astype(np.int64) / 86_400
    status = _pick(rng, ("delivered", "cancelled", "refunded"), n_orders, (0.92, 0.055, 0.025))
    recent = age_days < 60
    status[recent & (rng.random(n_orders) < 0.35)] = "shipped"
    # 'pending' exists only in the last two weeks: status and created_at are correlated
    status[(age_days < 14) & (rng.random(n_orders) < 0.5)] = "pending"
    country = users["country"].to_numpy()[user_idx]
    currency = pd.Series(country).map(vocab.CURRENCIES).fillna("USD").to_numpy()

    per_order = np.clip(rng.poisson(max(n_items / n_orders - 1, 0.1), n_orders) + 1, 1, 8)
    item_order_idx = np.repeat(np.arange(n_orders), per_order)
    n_total = len(item_order_idx)
    popularity = 1.0 / np.arange(1, len(products) + 1) ** 0.9  # a few products sell a lot
    product_idx = rng.permutation(len(products))[
        rng.choice(len(products), size=n_total, p=popularity / popularity.sum())
    ]
    quantity = np.clip(rng.geometric(0.65, n_total), 1, 12)
    price = products["price_cents"].to_numpy()[product_idx]
    discount = np.where(
        rng.random(n_total) < 0.15, np.round(rng.uniform(0.05, 0.3, n_total), 2), 0.0
    )
    line_total = np.round(price * quantity * (1 - discount)).astype(np.int64)
    totals = np.bincount(item_order_idx, weights=line_total, minlength=n_orders).astype(np.int64)
    orders = pd.DataFrame(
        {
            "id": ids,
            "user_id": users["id"].to_numpy()[user_idx],
            "status": status,
            "total_cents": totals,
            "currency": currency,
            "shipping_country": country,
            "created_at": created,
        }
    )
    items = pd.DataFrame(
        {
            "id": np.arange(1, n_total + 1),
            "order_id": ids[item_order_idx],
            "product_id": products["id"].to_numpy()[product_idx],
            "quantity": quantity,
            "unit_price_cents": price,
            "discount": discount,
        }
    )
    return orders, items


def _events(rng: np.random.Generator, n: int, users: pd.DataFrame, clock: _Clock) -> pd.DataFrame:
    activity = rng.lognormal(0.0, 1.5, len(users))
    user_idx = rng.choice(len(users), size=n, p=activity / activity.sum())
    created = np.sort(
        clock.between(rng, users["created_at"].to_numpy()[user_idx], np.full(n, clock.now))
    )
    kind = _pick(
        rng,
        ("page_view", "click", "search", "purchase", "error", "signup"),
        n,
        (0.62, 0.18, 0.09, 0.05, 0.04, 0.02),
    )
    path = _pick(rng, vocab.PATHS, n)
    agent = _pick(rng, vocab.USER_AGENTS, n)
    ms = pd.Series(np.round(rng.lognormal(4.0, 0.8, n)).astype(np.int64)).astype(str).to_numpy()
    session = pd.Series(rng.integers(16**11, 16**12, n)).map("{:012x}".format).to_numpy()
    payload = (
        '{"path": "'
        + path
        + '", "duration_ms": '
        + ms
        + ', "session": "'
        + session
        + '", "user_agent": "'
        + agent
        + '", "referrer": "https://www.example.com'
        + _pick(rng, vocab.PATHS, n)
        + '", "flags": ["beta", "dark-mode"], "note": "'
        + _pick(rng, vocab.BLURBS, n)
        + '"}'
    )
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "user_id": users["id"].to_numpy()[user_idx],
            "type": kind,
            "created_at": created,
            "payload": payload,
        }
    )
