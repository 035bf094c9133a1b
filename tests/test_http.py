"""Endpoints of any stack: ``s.profile_http`` against real services and real databases.

The services are real: the demo shop's API (Starlette, the ORM handlers with the planted N+1)
and a service in another language (``tests/http_service.js``, Node's standard library with a
hand-written PostgreSQL client), both over a scratch copy of the demo data in a database of
their own on the shared PostgreSQL 15 (other test runs share that server's
``pg_stat_statements``; the profile reads the scratch database's statements only). MySQL's
statement digests are read from a throwaway MariaDB with the performance schema on.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import workbench as wb
from workbench.cli import main as cli
from workbench.http import HttpRequest, parse_curl

from .conftest import PG_URL, _port_open, require

ROOT = Path(__file__).resolve().parents[1]
SECRET = "Bearer wbcanary-4f1e9c7d2b"
COOKIE = "session=wbcookie-9a8b7c6d5e"

pytestmark = pytest.mark.postgres


# -- the scratch database and the services --------------------------------------------------------
@pytest.fixture(scope="module")
def scratch() -> Iterator[str]:
    """A database of its own on the shared PostgreSQL 15: the demo data at scale 0.02 and
    pg_stat_statements created in it; dropped at the end."""
    require(_port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    from sqlalchemy import create_engine, text

    name = f"wbt_http_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        wb.demo.load(url, scale=0.02)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(scope="module")
def session(scratch: str) -> Iterator[wb.Session]:
    s = wb.connect(scratch)
    yield s
    s.close()


@pytest.fixture(scope="module")
def demo_api(scratch: str) -> Iterator[Any]:
    with wb.demo.serve(scratch) as api:
        yield api


@pytest.fixture(scope="module")
def node_api(scratch: str) -> Iterator[str]:
    """``tests/http_service.js`` on a free port of 127.0.0.1, over the scratch database."""
    node = shutil.which("node")
    require(node is not None, "node (Node.js) on the PATH for the non-Python service")
    assert node is not None
    import os

    env = dict(os.environ, PGHOST="127.0.0.1", PGPORT="5432", PGUSER="postgres")
    env["PGDATABASE"] = scratch.rsplit("/", 1)[1]
    proc = subprocess.Popen(
        [node, str(ROOT / "tests" / "http_service.js")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("listening "), line
    try:
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # the service exits when its standard input ends
        proc.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- done when: the demo service's N+1, its database share, the eager fix ---------------------
def test_demo_api_n_plus_one_its_database_share_and_the_eager_fix(
    session: wb.Session, demo_api: Any
) -> None:
    prof = session.profile_http(demo_api.endpoint("/api/users"), runs=12, warmup=2)
    assert prof.mode == "http" and prof.runs == 12 and prof.errors == 0
    top = prof.repeated.iloc[0]
    assert "from orders" in top.sql and "orders.user_id" in top.sql
    assert top["count"] == 50  # one lazy load per user on the page of 50
    assert top.calls == 50 * 12 and top.requests == 12
    assert prof.server is not None and prof.server.per_request[top.fingerprint] == [50] * 12
    split = prof.split
    assert split.measured.all() and (split.db_ms > 0).all() and (split.statements >= 51).all()
    assert (split.db_ms <= split.latency_ms).all()
    assert any(n.startswith("database: ") and "of the median request" in n for n in prof.notes)
    assert any("N+1 candidate" in n and "50 times per request" in n for n in prof.notes)
    assert set(prof.extra) >= {"status", "db_ms", "round_trips", "python_ms"}
    # the statements are the scratch database's only: no other test's, none of the workbench's
    assert not prof.statements.sql.str.contains("pg_stat_statements").any()

    eager = session.profile_http(demo_api.endpoint("/api/users?eager=1"), runs=12, warmup=2)
    assert eager.repeated.empty and eager.server is not None
    assert eager.server.statements_per_request < 6
    comparison = prof.compare(eager)
    assert comparison.significant and comparison.faster, comparison.verdict
    assert "faster" in comparison.verdict

    # the offline rules read it as they read a capture: an n_plus_one finding on orders; the
    # endpoint's statements come with its profile (once, even when also given as a capture)
    for ev in (
        session.evidence(profile=prof),
        session.evidence(profile=prof, captures=[prof.server]),
    ):
        assert ev.sql is None  # the request line is no statement
        assert len(ev.captures) == 1 and "orders" in {t["name"] for t in ev.tables}
        found = [f for f in wb.analyze(ev) if f.code == "n_plus_one" and "orders" in f.tables]
        assert len(found) == 1 and "50 times" in found[0].title
        assert demo_api.endpoint("/api/users").split("//")[1] in ev.payload()  # not redacted


def test_the_demo_api_other_endpoints(demo_api: Any) -> None:
    import httpx

    with httpx.Client(trust_env=False) as client:
        orders = client.get(demo_api.endpoint("/api/orders?status=shipped&user_id=7"))
        search = client.get(demo_api.endpoint("/api/search?q=gmail&limit=3"))
        bad = client.get(demo_api.endpoint("/api/users?page=abc"))
    assert orders.status_code == 200 and all(o["status"] == "shipped" for o in orders.json())
    assert search.status_code == 200 and len(search.json()) == 3
    assert all("gmail" in u["email"] for u in search.json())
    assert bad.status_code == 400
    assert demo_api.running and str(demo_api.port) in repr(demo_api)


def test_a_fix_measured_on_a_copy_nobody_else_sees(session: wb.Session, demo_api: Any) -> None:
    fix = "CREATE INDEX orders_user_id_idx ON orders (user_id)"
    with wb.demo.fixed_copy(session, fix) as url, wb.demo.serve(url) as api:
        copies = session.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'wb_fix_%'")
        indexed = session.query(
            "SELECT schemaname FROM pg_indexes WHERE indexname = 'orders_user_id_idx'"
        )
        prof = session.profile_http(api.endpoint("/api/users"), runs=3, warmup=1)
    assert len(copies) >= 1 and indexed.schemaname.str.startswith("wb_fix_").all()
    before = session.profile_http(demo_api.endpoint("/api/users"), runs=3, warmup=1)

    def orders_call_ms(profile: wb.Profile) -> float:
        rows = profile.repeated[profile.repeated.sql.str.contains("from orders")]
        assert rows["count"].tolist() == [50]
        return float(rows.mean_ms.iloc[0])

    assert prof.errors == 0 and orders_call_ms(prof) * 3 < orders_call_ms(before)
    assert (
        session.query(
            "SELECT count(*) AS n FROM pg_namespace WHERE nspname = :n",
            params={"n": copies.nspname[0]},
        ).n[0]
        == 0
    )
    original = session.table("orders")
    assert "user_id" not in {ix.columns[0] for ix in original.indexes}
    refused = pytest.raises(wb.ConfigurationError, match="indexes, statistics and ANALYZE only")
    with refused, wb.demo.fixed_copy(session, "DROP TABLE orders"):
        pass


def test_serve_stops_with_its_context_and_hides_the_password(scratch: str) -> None:
    from sqlalchemy.engine import make_url

    with wb.demo.serve(scratch) as api:
        proc = api.proc
        assert api.running
    assert proc.poll() is not None and not api.running
    masked = make_url(scratch).set(password="hunter2-wbcanary")
    with pytest.raises(wb.WorkbenchError) as caught:  # the service cannot log in: no password
        wb.demo.serve(
            masked.render_as_string(hide_password=False).replace("127.0.0.1", "localhost:1")
        )
    assert "hunter2-wbcanary" not in str(caught.value)


# -- done when: a service the workbench did not start, not written in Python ------------------
def test_a_node_service_n_plus_one_seen_from_the_database(
    session: wb.Session, node_api: str
) -> None:
    prof = session.profile_http(f"{node_api}/api/users?limit=20", runs=10, warmup=2)
    assert prof.errors == 0
    repeated = prof.repeated
    assert len(repeated) == 1
    assert "from orders where user_id = ?" in repeated.sql[0]
    assert repeated["count"][0] == 20 and repeated.calls[0] == 200
    assert prof.server is not None and prof.server.statements_per_request == 21
    eager = session.profile_http(f"{node_api}/api/users?limit=20&eager=1", runs=10, warmup=2)
    assert eager.repeated.empty and eager.server is not None
    assert eager.server.statements_per_request == 1


def test_a_load_run_with_wrk_and_with_the_async_client(session: wb.Session, node_api: str) -> None:
    require(shutil.which("wrk") is not None, "wrk (Debian package wrk) on the PATH")
    url = f"{node_api}/api/users?limit=5&eager=1"
    prof = session.profile_http(url, runs=200, concurrency=4, warmup=4)
    assert prof.runs == 200 and prof.errors == 0 and prof.concurrency == 4
    assert any("measured by wrk" in n for n in prof.notes)
    assert set(np.unique(prof.worker)) == {0, 1, 2, 3}
    assert (prof.latencies_ms > 0).all() and np.all(np.diff(prof.start_ms) >= 0)
    assert prof.server is not None and prof.server.requests >= 200
    assert "db_ms" not in prof.extra and not prof.split.measured.any()
    assert any("before and after the run" in n for n in prof.notes)

    fallback = session.profile_http(url, runs=60, concurrency=3, warmup=0, engine="httpx")
    assert fallback.runs == 60 and fallback.errors == 0
    assert any("async client" in n for n in fallback.notes)
    timed = session.profile_http(url, duration=1.0, concurrency=2, warmup=0)
    assert timed.runs > 10 and 0.8 < timed.wall_s < 3


def test_progress_and_stop_as_the_panel_uses_them(session: wb.Session, node_api: str) -> None:
    seen: list[tuple[int, int | None]] = []
    prof = session.profile_http(
        f"{node_api}/slow?ms=20", runs=50, warmup=0, progress=lambda d, t: seen.append((d, t))
    )
    assert prof.runs == 50 and seen[-1] == (50, 50) and len(seen) >= 50
    stopped = session.profile_http(
        f"{node_api}/slow?ms=20", runs=500, warmup=0, stop=lambda: len(seen) > 60,
        progress=lambda d, t: seen.append((d, t)),
    )  # fmt: skip
    assert stopped.interrupted and 5 <= stopped.runs < 500 and "stopped early" in repr(stopped)
    if shutil.which("wrk"):
        began = time.monotonic()
        load = session.profile_http(
            f"{node_api}/slow?ms=20", duration=30, concurrency=2, warmup=0,
            stop=lambda: time.monotonic() - began > 1.5,
        )  # fmt: skip
        assert load.interrupted and load.runs > 20 and time.monotonic() - began < 10


def test_other_traffic_makes_the_numbers_approximate_and_says_so(
    session: wb.Session, scratch: str, node_api: str
) -> None:
    import threading

    import psycopg

    conninfo = scratch.replace("postgresql+psycopg://", "postgresql://")

    def neighbour() -> None:  # another program on the same database, during the run
        time.sleep(0.2)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for i in range(7):
                conn.execute("SELECT count(*) FROM accounts WHERE id = %s", [i])
                time.sleep(0.05)

    url = f"{node_api}/slow?ms=25"
    thread = threading.Thread(target=neighbour)
    thread.start()
    one_by_one = session.profile_http(url, runs=30, warmup=0)
    thread.join()
    assert any("did not all send the same statements" in n for n in one_by_one.notes)
    if shutil.which("wrk"):
        thread = threading.Thread(target=neighbour)
        thread.start()
        load = session.profile_http(url, duration=1.0, concurrency=2, warmup=0)
        thread.join()
        assert any("do not divide evenly" in n and "concurrency=1" in n for n in load.notes)
    assert session.profile_http(url, runs=2, warmup=0, role="postgres").server is not None
    with pytest.raises(wb.ConfigurationError, match="no role"):
        session.profile_http(url, runs=2, role="nobody_wb_test")


# -- failures are samples, not the end of the run ---------------------------------------------------
def test_500s_refused_connections_and_timeouts_are_recorded(
    session: wb.Session, node_api: str
) -> None:
    errors = session.profile_http(f"{node_api}/error", runs=5, warmup=1)
    assert errors.errors == 5 and errors.messages == ["HTTP 500 Internal Server Error"]
    assert (errors.extra["status"] == 500).all() and np.isfinite(errors.all_latencies_ms).all()
    assert errors.server is not None and errors.server.statements_per_request == 1

    refused_url = f"http://127.0.0.1:{_free_port()}/api/users"
    refused = session.profile_http(refused_url, runs=4, warmup=1, statements=False)
    assert refused.errors == 4 and "connection refused" in refused.messages[0]
    assert "no successful execution" in refused.describe()

    slow = session.profile_http(f"{node_api}/slow?ms=1500", runs=2, warmup=0, timeout=0.3)
    assert slow.errors == 2 and slow.messages[0].startswith("timeout: no answer within 0.3 s")
    assert (slow.all_latencies_ms < 1000).all()

    mixed = session.profile_http(f"{node_api}/slow?ms=10", runs=3, warmup=0)
    assert mixed.errors == 0 and mixed.summary()["p50"] >= 10


def test_a_load_run_on_a_refused_port_is_recorded_too(session: wb.Session) -> None:
    require(shutil.which("wrk") is not None, "wrk (Debian package wrk) on the PATH")
    url = f"http://127.0.0.1:{_free_port()}/"
    prof = session.profile_http(url, runs=20, concurrency=2, warmup=0, statements=False)
    assert prof.errors == 20 and "connection refused" in prof.messages[0]
    assert any("wrk could not connect" in n for n in prof.notes)


# -- secrets --------------------------------------------------------------------------------------
def test_a_curl_line_with_headers_profiles_and_keeps_no_secret(
    session: wb.Session, node_api: str, tmp_path: Path
) -> None:
    line = (
        f"curl '{node_api}/api/users?limit=3&access_token=wbtoken-31337' \\\n"
        f"  -H 'Accept: application/json' -H 'Authorization: {SECRET}' \\\n"
        f"  -b '{COOKIE}' --compressed"
    )
    prof = session.profile_http(curl=line, runs=3, warmup=1)
    assert prof.errors == 0
    assert "access_token=***" in prof.sql and "Authorization: ***" in prof.params
    assert "Accept: application/json" in prof.params
    inv = wb.Investigation("curl", folder=tmp_path / "inv")
    inv.record(prof)
    report = inv.export(tmp_path / "report.html")
    texts = [
        json.dumps(prof.to_dict()),
        repr(prof),
        prof._repr_html_(),
        report.read_text(),
        (tmp_path / "inv" / "investigation.json").read_text(),
        session.evidence("SELECT 1", profile=prof).payload(),
    ]
    for text in texts:
        for secret in ("wbcanary-4f1e9c7d2b", "wbcookie-9a8b7c6d5e", "wbtoken-31337"):
            assert secret not in text


def test_secrets_stay_out_of_errors_and_urls(session: wb.Session) -> None:
    url = f"http://app:pw-wbcanary@127.0.0.1:{_free_port()}/x?api_key=wbkey-1234&page=2"
    prof = session.profile_http(
        url, runs=2, warmup=0, headers={"X-Api-Key": "wbkey-5678"}, statements=False
    )
    text = json.dumps(prof.to_dict())
    for secret in ("pw-wbcanary", "wbkey-1234", "wbkey-5678"):
        assert secret not in text and secret not in repr(prof)
    assert "app:***@" in prof.sql and "page=2" in prof.sql
    request = HttpRequest.build(url)
    assert "pw-wbcanary" not in repr(request)


def test_parse_curl_reads_what_browsers_copy() -> None:
    chrome = (
        "curl 'https://shop.test/api/orders' \\\n"
        "  -H 'authority: shop.test' \\\n"
        "  -H 'content-type: application/json' \\\n"
        '  --data-raw $\'{"note":"it\\\'s\\\\n"}\' \\\n'
        "  --compressed"
    )
    parsed = parse_curl(chrome)
    assert parsed.method == "POST" and parsed.url == "https://shop.test/api/orders"
    assert ("content-type", "application/json") in parsed.headers
    assert parsed.body == b'{"note":"it\'s\\n"}'
    windows = 'curl "https://shop.test/a?b=1" ^\n  -H "Accept: */*" ^\n  -X PUT'
    assert parse_curl(windows).method == "PUT" and parse_curl(windows).url.endswith("a?b=1")
    user = parse_curl("curl -u app:pw https://shop.test/ -G -d q=1")
    assert user.url == "https://shop.test/?q=1" and user.body is None
    assert user.headers == [("Authorization", "Basic YXBwOnB3")]
    with pytest.raises(wb.ConfigurationError):
        parse_curl("curl -x http://proxy:3128 https://shop.test/")
    with pytest.raises(wb.ConfigurationError):
        parse_curl("wget https://shop.test/")


# -- where the database's side is missing ---------------------------------------------------------
def test_without_pg_stat_statements_it_says_how_to_enable_it(pg_url: str) -> None:
    from sqlalchemy import create_engine, text

    name = f"wbt_http_{uuid.uuid4().hex[:8]}"  # an empty database: no extension created in it
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        s = wb.connect(PG_URL.rsplit("/", 1)[0] + f"/{name}")
        url = f"http://127.0.0.1:{_free_port()}/"
        with pytest.warns(wb.WorkbenchWarning, match="CREATE EXTENSION pg_stat_statements"):
            prof = s.profile_http(url, runs=1, warmup=0)
        assert prof.server is None and prof.statements.empty and prof.repeated.empty
        assert any(n.startswith("no statements:") for n in prof.notes)
        s.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_sqlite_has_no_server_side_and_says_so(tmp_path: Path) -> None:
    s = wb.connect(f"sqlite:///{tmp_path / 'x.db'}")
    prof = s.profile_http(f"http://127.0.0.1:{_free_port()}/", runs=1, warmup=0)
    assert prof.server is None and any("sqlite" in n for n in prof.notes)


def test_mariadb_without_the_performance_schema_says_how_to_enable_it(mariadb_url: str) -> None:
    s = wb.connect(mariadb_url)
    if s.query("SELECT @@performance_schema AS on_").on_[0]:
        pytest.skip("this MariaDB has the performance schema on")
    with pytest.warns(wb.WorkbenchWarning, match="performance_schema = ON"):
        prof = s.profile_http(f"http://127.0.0.1:{_free_port()}/", runs=1, warmup=0)
    assert prof.server is None
    with pytest.raises(wb.ConfigurationError, match="per schema"):
        s.profile_http(f"http://127.0.0.1:{_free_port()}/", runs=1, role="app")


@pytest.mark.mariadb
def test_mariadb_statement_digests_show_the_demo_api_n_plus_one(tmp_path: Path) -> None:
    from .throwaway_mariadb import ThrowawayMariaDB, available

    require(available(), "mariadb-install-db and mariadbd for a throwaway MariaDB")
    server = ThrowawayMariaDB(tmp_path / "mariadb")
    try:
        import pymysql

        conn = pymysql.connect(unix_socket=str(server.socket), user="root")
        conn.cursor().execute("CREATE DATABASE shop")
        conn.close()
        url = server.url("shop")
        wb.demo.load(url, scale=0.02)
        s = wb.connect(url)
        with wb.demo.serve(url) as api:
            prof = s.profile_http(api.endpoint("/api/users?per_page=30"), runs=6, warmup=1)
            eager = s.profile_http(api.endpoint("/api/users?per_page=30&eager=1"), runs=6)
        assert prof.server is not None and prof.server.source == "performance_schema"
        top = prof.repeated.iloc[0]
        assert "from `orders`" in top.sql and top["count"] == 30
        assert not prof.statements.sql.str.contains("events_statements").any()
        assert eager.repeated.empty
    finally:
        server.stop()


# -- the result -----------------------------------------------------------------------------------
def test_an_http_profile_round_trips_with_its_statements(
    session: wb.Session, node_api: str, tmp_path: Path
) -> None:
    prof = session.profile_http(f"{node_api}/api/users?limit=6", runs=3, warmup=0, label="users")
    again = wb.Profile.from_dict(json.loads(json.dumps(prof.to_dict())))
    assert again.server is not None and again.repeated["count"].tolist() == [6]
    assert again.statements.calls.sum() == prof.statements.calls.sum()
    assert again.label == "users" and again.mode == "http"
    assert prof.histogram() is not None and prof.timeline() is not None
    # recorded in an investigation, and loaded after a restart: its statements too
    inv = wb.Investigation("endpoint", folder=tmp_path / "inv")
    inv.record(prof)
    loaded = wb.Investigation.load(tmp_path / "inv")[0].object(tmp_path / "inv")
    assert loaded.server is not None and loaded.repeated["count"].tolist() == [6]
    # its report: the request (not a statement), what each request ran, the line that redoes it
    html = inv.export(tmp_path / "endpoint.html").read_text(encoding="utf-8")
    assert "Request" in html and "Statements per request (pg_stat_statements)" in html
    assert "outside the database" in html and "Python time" not in html
    assert f"prof = s.profile_http(&#39;{node_api}/api/users?limit=6&#39;, runs=3)" in html


def test_a_small_sample_says_how_many_runs_a_verdict_needs() -> None:
    def profile(values: list[float]) -> wb.Profile:
        n = len(values)
        return wb.Profile(
            sql="GET /x",
            dialect="postgresql",
            mode="http",
            concurrency=1,
            start_ms=np.arange(n, dtype=float),
            all_latencies_ms=np.asarray(values),
            rows=np.full(n, -1),
            worker=np.zeros(n, dtype=np.int16),
            error=np.full(n, -1, dtype=np.int16),
        )

    slow, fast = profile([990.0, 1000.0, 1010.0]), profile([29.0, 30.0, 31.0])
    verdict = slow.compare(fast).verdict
    assert verdict.startswith("3 runs each cannot show a difference at 95%")
    assert "33×" in verdict and "use at least 4 runs each" in verdict
    more = profile([990.0, 1000.0, 1010.0, 1005.0, 995.0]).compare(
        profile([29.0, 30.0, 31.0, 30.5, 29.5])
    )
    assert more.faster and "faster" in more.verdict


# -- done when: Locust's CSV from a run of the written locustfile ---------------------------------
@pytest.mark.slow
def test_a_locust_run_of_the_written_locustfile_reads_back(node_api: str, tmp_path: Path) -> None:
    require(
        subprocess.run([sys.executable, "-c", "import locust"], capture_output=True).returncode
        == 0,
        "locust installed (pip install -e '.[dev]')",
    )
    target = tmp_path / "locustfile.py"
    code = cli(
        [
            "locustfile",
            f"{node_api}/api/users?limit=3&eager=1",
            "-H",
            f"Authorization: {SECRET}",
            "-o",
            str(target),
        ]
    )
    assert code == 0 and "wbcanary" not in target.read_text()
    import os

    env = dict(
        os.environ, WORKBENCH_HEADER_AUTHORIZATION=SECRET, WORKBENCH_LOCUST_LOG_DIR=str(tmp_path)
    )
    run = subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(target), "--headless", "-u", "4", "-r", "4",
            "-t", "3s", "--csv", str(tmp_path / "run"), "--host", node_api, "--only-summary",
            "--loglevel", "WARNING", "--stop-timeout", "2",
        ],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    stats = wb.Profile.from_locust(tmp_path / "run")
    assert stats.mode == "locust" and stats.runs > 50 and stats.errors == 0
    assert stats.concurrency == 4 and stats.sql == "GET /api/users"
    logged = wb.Profile.from_locust(tmp_path)
    assert logged.runs >= stats.runs * 0.9 and logged.errors == 0
    # the reconstruction keeps Locust's percentiles; the logs hold the real latencies
    assert abs(stats.summary()["p50"] - logged.summary()["p50"]) <= max(
        1.0, 0.15 * logged.summary()["p50"]
    )
    assert "reconstructed" in stats.notes[0] and "per-request logs" in logged.notes[0]
    assert stats.compare(logged).verdict and stats.histogram() is not None


# -- the command line -----------------------------------------------------------------------------
def test_cli_profile_http_and_check_an_endpoint(
    scratch: str, node_api: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"{node_api}/api/users?limit=6"
    code = cli(["profile-http", url, "--runs", "4", "--warmup", "1", "--db", scratch, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["mode"] == "http" and out["summary"]["runs"] == 4
    assert out["repeated"][0]["count"] == 6
    code = cli(["profile-http", url, "--runs", "3", "-H", f"Authorization: {SECRET}", "--json"])
    text = capsys.readouterr().out
    assert code == 0 and "Authorization: ***" in text and "wbcanary" not in text
    baseline = tmp_path / "users.json"
    assert cli(["check", url, "--baseline", str(baseline), "--save-baseline", "--runs", "10"]) == 0
    assert "baseline saved" in capsys.readouterr().out
    check = ["check", url, "--baseline", str(baseline), "--runs", "10", "--threshold", "3"]
    assert cli([*check, "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["regressed"] is False
    refused = f"http://127.0.0.1:{_free_port()}/"
    assert cli(["profile-http", refused, "--runs", "2", "--warmup", "0"]) == 2
    assert "connection refused" in capsys.readouterr().err


def test_the_architect_s_profile_http_tool(session: wb.Session, demo_api: Any) -> None:
    from workbench.tools import Toolbox

    box = Toolbox(session.executor)
    url = demo_api.endpoint("/api/users")
    call = box.prepare("profile_http", {"url": url, "runs": 500})
    assert call.gate == "http"  # real requests: the person approves first
    outcome = box.run(call)
    assert outcome.ok and "20 requests" not in outcome.text  # runs capped at 50, not 500
    assert "50 requests" in outcome.text and "calls/request" in outcome.text
    assert "N+1 candidates:" in outcome.text and "in the database" in outcome.text
    assert "FROM orders WHERE $1::INTEGER = orders.user_id" in outcome.text  # one line each
    assert outcome.code == f"prof_1 = s.profile_http({url!r}, runs=50)"
    refused = box.run(box.prepare("profile_http", {"url": url, "method": "POST"}))
    assert not refused.ok and "only GET and HEAD" in refused.text
    refused = box.run(box.prepare("profile_http", {"url": "file:///etc/passwd"}))
    assert not refused.ok and "http://" in refused.text
