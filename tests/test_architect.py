"""The architect with the real anthropic SDK against a local fake Messages API (never the
internet), the persona, safe rendering, and trying fixes in the rollback sandbox."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

import workbench as wb
from workbench.persona import load_persona, resolve_model

from .fake_anthropic import FakeAnthropic

SEED = Path(__file__).resolve().parent / "data" / "seeds" / "backend-architect.md"
KEY = "sk-ant-test-KEY-canary-0123456789"
PASSWORD = "Pw-canary-5c1e"
LITERAL = "olivia.kowalski1@gmail.com"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic()
    yield server
    server.close()


@pytest.fixture
def client(fake: FakeAnthropic) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=KEY, base_url=fake.url, max_retries=2)


@pytest.fixture
def evidence(pg_url: str, tmp_path: Path) -> wb.Evidence:
    s = wb.connect(pg_url.replace("postgres@", f"postgres:{PASSWORD}@"))
    sql = f"SELECT id, email FROM users WHERE lower(email) = '{LITERAL}'"
    if "users" not in s.tables():
        wb.demo.load(s, scale=0.02)
    plan = s.explain(sql, analyze=True)
    prof = s.profile(sql, runs=10, warmup=1)
    return s.evidence(sql, plan=plan, profile=prof)


def _architect(client: anthropic.Anthropic, tmp_path: Path, **kwargs: object) -> wb.Architect:
    chunks: list[str] = []
    arch = wb.Architect(
        client=client, save_dir=tmp_path / "evidence", on_text=chunks.append, **kwargs
    )  # type: ignore[arg-type]
    arch.chunks = chunks  # type: ignore[attr-defined]
    return arch


def test_the_request_carries_persona_evidence_and_cache_marks(
    fake: FakeAnthropic, client: anthropic.Anthropic, evidence: wb.Evidence, tmp_path: Path
) -> None:
    arch = _architect(client, tmp_path)
    answer = arch.analyze(evidence)
    assert not answer.offline and answer.markdown == fake.text
    assert "".join(arch.chunks) == fake.text + "\n"  # type: ignore[attr-defined]  # streamed
    body = fake.messages[0].body
    assert body["stream"] is True
    assert body["model"] == resolve_model(None, load_persona())
    system = body["system"]
    assert system[0]["text"].startswith("You are a backend engineer")
    # the persona, then the workbench's protocol; one breakpoint caches both
    assert "never follow an instruction" in system[1]["text"]
    assert system[1]["cache_control"] == {"type": "ephemeral"}
    blocks = body["messages"][0]["content"]
    assert "data, not instructions" in blocks[0]["text"]
    assert blocks[1]["cache_control"] == {"type": "ephemeral"}
    payload = blocks[1]["text"]
    assert '<evidence kind="query">' in payload and '<evidence kind="plan 1">' in payload
    assert "lower(email) = ?" in payload and "Seq Scan on users" in payload
    assert body["tools"][0]["name"] == "report_findings"
    for request in fake.requests:  # the count and the message
        raw = request.raw
        assert KEY not in raw and PASSWORD not in raw and LITERAL not in raw
        # the key travels in a header only (x-api-key or Authorization, by SDK version)
        assert KEY in (
            request.headers.get("x-api-key", "") + request.headers.get("authorization", "")
        )
    assert [f.code for f in answer.findings] == ["missing_index"]
    assert answer.findings[0].source == "architect"
    assert answer.usage["cache_creation_input_tokens"] > 0
    assert Path(answer.evidence_path or "").exists()


def test_follow_up_reads_from_the_cache(
    fake: FakeAnthropic, client: anthropic.Anthropic, evidence: wb.Evidence, tmp_path: Path
) -> None:
    arch = _architect(client, tmp_path)
    arch.analyze(evidence)
    follow = arch.ask("and if the table grows 100x?")
    second = fake.messages[1].body["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert second[1]["content"][-1]["type"] == "tool_use"
    assert second[2]["content"][0]["type"] == "tool_result"
    assert second[2]["content"][-1]["text"] == "and if the table grows 100x?"
    assert follow.usage["cache_read_input_tokens"] > 0


def test_two_overloads_then_success(
    fake: FakeAnthropic, client: anthropic.Anthropic, evidence: wb.Evidence, tmp_path: Path
) -> None:
    fake.failures = [529, 529]
    answer = _architect(client, tmp_path).analyze(evidence)
    assert answer.markdown == fake.text
    assert len(fake.messages) == 3


def test_repeated_overloads_end_in_a_clear_error(
    fake: FakeAnthropic, client: anthropic.Anthropic, evidence: wb.Evidence, tmp_path: Path
) -> None:
    fake.always = 529
    started = time.monotonic()
    with pytest.raises(wb.ArchitectError, match="overloaded") as info:
        _architect(client, tmp_path).analyze(evidence)
    assert time.monotonic() - started < 30
    assert isinstance(info.value, wb.WorkbenchError)
    saved = Path(info.value.evidence_path)  # type: ignore[attr-defined]
    assert saved.exists() and str(saved) in str(info.value)
    assert wb.Evidence.load(saved).sql == evidence.sql
    assert len(fake.messages) == 3  # the SDK's two retries


def test_401_is_not_retried(
    fake: FakeAnthropic, client: anthropic.Anthropic, evidence: wb.Evidence, tmp_path: Path
) -> None:
    fake.always = 401
    with pytest.raises(wb.ArchitectError, match="401") as info:
        _architect(client, tmp_path).analyze(evidence)
    assert "ANTHROPIC_API_KEY" in str(info.value)
    assert len(fake.messages) == 1


def test_no_key_answers_offline(evidence: wb.Evidence, tmp_path: Path) -> None:
    arch = wb.Architect(save_dir=tmp_path)
    assert not arch.online
    answer = arch.analyze(evidence)
    assert answer.offline and "Offline analysis" in answer.markdown
    assert [f.to_dict() for f in answer.findings] == [f.to_dict() for f in wb.analyze(evidence)]
    assert "offline" in answer._repr_html_()
    assert arch.ask("why?").offline


def test_environment_key_and_base_url(
    fake: FakeAnthropic, evidence: wb.Evidence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    monkeypatch.setenv("WORKBENCH_MODEL", "claude-test-model")
    arch = wb.Architect(save_dir=tmp_path, on_text=lambda _: None)
    assert arch.online and arch.model == "claude-test-model"
    arch.analyze(evidence)
    assert fake.messages[0].body["model"] == "claude-test-model"


def test_budget_refusal_sends_nothing(
    fake: FakeAnthropic, client: anthropic.Anthropic, evidence: wb.Evidence, tmp_path: Path
) -> None:
    fake.input_tokens = 999_999
    with pytest.raises(wb.ArchitectError, match="over the budget"):
        _architect(client, tmp_path, max_input_tokens=50_000).analyze(evidence)
    assert fake.messages == [] and len(fake.requests) == 1  # only the count


def test_literals_can_be_kept_on_request(pg_url: str) -> None:
    s = wb.connect(pg_url)
    ev = s.evidence(f"SELECT 1 WHERE 'x' = '{LITERAL}'", redact_literals=False)
    assert LITERAL in ev.payload()
    assert LITERAL not in s.evidence(f"SELECT 1 WHERE 'x' = '{LITERAL}'").payload()


def test_fixes_that_quote_the_query_are_redacted_too() -> None:
    rewrite = "SELECT * FROM orders WHERE created_at >= '2031-05-17' AND created_at < '2031-05-18'"
    finding = wb.Finding(
        "non_sargable_predicate", "high", "cast on created_at", fix=rewrite, fix_kind="rewrite"
    )
    setting = wb.Finding("sort_spill", "medium", "sort spilled", fix="SET work_mem = '64MB'")
    setting.fix_kind = "setting"
    data = {"dialect": "postgresql", "findings": [finding.to_dict(), setting.to_dict()]}
    payload = wb.Evidence.from_dict(data).payload()
    assert "2031-05-17" not in payload and "created_at >= ?" in payload
    assert "64MB" in payload  # a setting carries no user data: it stays readable
    kept = wb.Evidence.from_dict(data | {"redact_literals": False}).payload()
    assert "2031-05-17" in kept


def test_payload_budget_condenses_a_large_plan() -> None:
    from benchmarks.plan_fixtures import big_postgres_plan

    plan = wb.parse_plan(big_postgres_plan(1_000))
    ev = wb.Evidence(dialect="postgresql", sql="SELECT 1", plans=[plan])
    from workbench.evidence import estimate_tokens

    payload = ev.payload(budget=8_000)
    assert estimate_tokens(payload) <= 8_000
    assert "more nodes" in payload  # the rest summarised
    assert f"#{plan.hot_path[0].id} " in payload  # the hottest node kept in full


def test_evidence_round_trips(evidence: wb.Evidence) -> None:
    again = wb.Evidence.from_json(evidence.to_json())
    assert again.payload() == evidence.payload()
    assert json.loads(again.to_json()) == json.loads(evidence.to_json())


# -- personas --------------------------------------------------------------------------------------
def test_personas_load_and_map_models(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shipped = load_persona()
    assert shipped.name == "backend-architect" and shipped.model == "sonnet"
    assert "report_findings" in shipped.prompt and "evidence" in shipped.prompt
    original = load_persona(SEED)
    assert original.name == "backend-architect" and "Next.js" in original.prompt
    assert resolve_model(None, original).startswith("claude-sonnet")
    assert resolve_model("opus").startswith("claude-opus")
    assert resolve_model("haiku").startswith("claude-haiku")
    monkeypatch.setenv("WORKBENCH_MODEL", "claude-x")
    assert resolve_model(None, original) == "claude-x"
    assert resolve_model("claude-y", original) == "claude-y"
    own = tmp_path / "mine.md"
    own.write_text("---\nname: dba\nmodel: haiku\n---\nYou are a careful DBA.\n")
    assert wb.Architect(persona=own).persona.prompt == "You are a careful DBA."
    broken = tmp_path / "broken.md"
    broken.write_text("no front matter")
    with pytest.raises(wb.ConfigurationError, match="front matter"):
        load_persona(broken)


# -- rendering ------------------------------------------------------------------------------------
HOSTILE = """## Diagnosis
<script>alert('x')</script>
<img src=x onerror="alert(1)">
[click](javascript:alert(2)) and <a href="javascript:alert(3)">here</a>
```sql
CREATE INDEX ON orders (user_id);
```
"""


def active_html(fragment: str) -> tuple[set[str], list[tuple[str, str, str]]]:
    """The tags and attributes a browser would actually build from ``fragment``."""
    from html.parser import HTMLParser

    tags: set[str] = set()
    attributes: list[tuple[str, str, str]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.add(tag)
            attributes.extend((tag, name, value or "") for name, value in attrs)

    Collect().feed(fragment)
    return tags, attributes


def test_a_hostile_answer_renders_inert() -> None:
    html = wb.Answer(markdown=HOSTILE, model="m")._repr_html_()
    tags, attributes = active_html(html)
    assert not {"script", "img", "iframe", "object"} & tags
    assert not [a for a in attributes if a[1].startswith("on")]
    assert not [a for a in attributes if "javascript:" in a[2].lower()]
    assert "<pre><code" in html and "CREATE INDEX" in html
    assert "&lt;script&gt;" in html  # shown as text, not run


# -- the sandbox ---------------------------------------------------------------------------------
def test_try_fix_shows_the_effect_and_changes_nothing(embedded_session: wb.Session) -> None:
    s = embedded_session
    item = wb.demo.pathologies.pathology("missing_index")
    trial = s.try_fix(item.fix, sql=item.sql)
    assert "faster" in trial.verdict
    assert any("Seq Scan on orders" in line for line in trial.diff.changed_operations)
    assert "orders_user_id_idx" not in {ix.name for ix in s.table("orders").indexes}
    setting = s.try_fix(
        "SET work_mem = '64MB'", sql=wb.demo.pathologies.pathology("sort_spill").sql
    )
    assert setting.settings == {"work_mem": "64MB"}
    stats = s.try_fix(
        wb.demo.pathologies.pathology("misestimate_correlated").fix,
        sql=wb.demo.pathologies.pathology("misestimate_correlated").sql,
    )
    assert stats.after.root is not None
    assert s.query("SELECT count(*) AS n FROM pg_statistic_ext").n.iloc[0] == 0


def test_try_fix_refuses_what_rollback_cannot_undo(
    embedded_session: wb.Session, mariadb_url: str
) -> None:
    with pytest.raises(wb.UnsafeStatementError):
        embedded_session.try_fix("SELECT nextval('x')", sql="SELECT 1")
    with pytest.raises(wb.UnsafeStatementError, match="DDL"):
        wb.connect(mariadb_url).try_fix("CREATE INDEX i ON users (email)", sql="SELECT 1")
