"""``/metrics``: Prometheus text format, database gauges, send instrumentation, commands served."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from briefcast.briefing.parse import parse_markdown
from briefcast.delivery.engine import Target
from briefcast.delivery.errors import SendError
from briefcast.delivery.transports import TelegramTransport
from briefcast.emulators.telegram import FakeTelegram, TelegramLimits
from briefcast.metrics import CONTENT_TYPE, InstrumentedTransport, Metrics, metrics_route
from briefcast.store import ChatRef, Store, outbox, schema
from briefcast.web import create_app

SAMPLE_LINE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? (-?[0-9.e+]+|\+Inf)$')


def _canonical(sample: str) -> str:
    """``name{b="2",a="1"}`` -> ``name{a="1",b="2"}``: label order is not part of the format."""
    name, brace, rest = sample.partition("{")
    if not brace:
        return name
    labels = sorted(re.findall(r'[a-z_]+="(?:[^"\\]|\\.)*"', rest[:-1]))
    return name + "{" + ",".join(labels) + "}"


class Samples(dict[str, float]):
    """Sample values by name and labels, looked up in any label order."""

    def __getitem__(self, sample: str) -> float:
        return super().__getitem__(_canonical(sample))


def parse(text: str) -> Samples:
    """Sample name+labels -> value; asserts every line is a comment or a valid sample."""
    values = Samples()
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        assert SAMPLE_LINE.match(line), line
        key, _, value = line.rpartition(" ")
        values[_canonical(key)] = float(value)
    return values


def test_counter_and_histogram_exposition() -> None:
    m = Metrics()
    m.commands.labels(platform="telegram", command="energy").inc()
    m.commands.labels(platform="telegram", command="energy").inc(2)
    m.send_latency.labels(platform="slack").observe(0.02)
    m.send_latency.labels(platform="slack").observe(3.0)
    text = m.exposition([("briefcast_queue_depth", "Due now.", [((), 7.0)])])
    assert "# TYPE briefcast_commands_served_total counter" in text
    assert "# TYPE briefcast_send_latency_seconds histogram" in text
    assert "# TYPE briefcast_queue_depth gauge" in text
    values = parse(text)
    assert values['briefcast_commands_served_total{platform="telegram",command="energy"}'] == 3
    assert values['briefcast_send_latency_seconds_bucket{platform="slack",le="0.025"}'] == 1
    assert values['briefcast_send_latency_seconds_bucket{platform="slack",le="2.5"}'] == 1
    assert values['briefcast_send_latency_seconds_bucket{platform="slack",le="5.0"}'] == 2
    assert values['briefcast_send_latency_seconds_bucket{platform="slack",le="+Inf"}'] == 2
    assert values['briefcast_send_latency_seconds_count{platform="slack"}'] == 2
    assert values['briefcast_send_latency_seconds_sum{platform="slack"}'] == pytest.approx(3.02)
    assert values["briefcast_queue_depth"] == 7


def test_label_values_are_escaped_and_labels_checked() -> None:
    m = Metrics()
    m.commands.labels(platform="slack", command='say "hi"\\\n').inc()
    line = 'briefcast_commands_served_total{command="say \\"hi\\"\\\\\\n",platform="slack"} 1.0'
    assert line in m.exposition()
    with pytest.raises(ValueError):
        m.commands.labels(other="a")
    with pytest.raises(ValueError):
        m.commands.labels(platform="slack", command="x").inc(-1)
    with pytest.raises(ValueError):
        m.send_latency.observe(1.0)  # the histogram has a label: a value needs one


def test_no_created_series_and_gauges_render() -> None:
    m = Metrics()
    m.sends.labels(platform="telegram", outcome="ok").inc()
    text = m.exposition([("briefcast_queue_depth", "Due now.", [((), 7.0)])])
    assert "_created" not in text
    assert parse(text)["briefcast_queue_depth"] == 7


async def test_instrumented_transport_counts_sends_latency_and_429() -> None:
    m = Metrics()
    async with FakeTelegram(limits=TelegramLimits(enabled=False)) as tg:
        tg.add_chat(42, "private")
        transport = InstrumentedTransport(TelegramTransport(tg.token, base_url=tg.base_url), m)
        try:
            assert await transport.send(Target("42"), {"text": "hello"}) == "1"
            tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", {"retry_after": 3})
            with pytest.raises(SendError):
                await transport.send(Target("42"), {"text": "again"})
            tg.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
            with pytest.raises(SendError):
                await transport.send(Target("42"), {"text": "blocked"})
        finally:
            await transport.close()
    assert transport.platform == "telegram"
    assert m.value("briefcast_sends_total", platform="telegram", outcome="ok") == 1
    assert m.value("briefcast_sends_total", platform="telegram", outcome="retry_after") == 1
    assert m.value("briefcast_sends_total", platform="telegram", outcome="permanent") == 1
    assert m.value("briefcast_rate_limited_total", platform="telegram") == 1
    assert m.value("briefcast_send_latency_seconds_count", platform="telegram") == 3


@pytest.fixture
def deliveries(store: Store, sample_md: Path) -> Store:
    """Two subscriptions (Telegram, Slack) and a pending delivery for each; one is due later."""
    raw = sample_md.read_text(encoding="utf-8")
    issue = store.ingest(parse_markdown(raw, source="sample"), raw=raw, source="sample").issue_id
    for ref, kind in (
        (ChatRef("telegram", "42"), "private"),
        (ChatRef("slack", "C1", workspace="T1"), "slack_channel"),
    ):
        store.upsert_chat(ref, kind=kind)
        store.subscribe(ref, ["energy"])
    now = datetime.now(UTC)
    assert outbox.enqueue_now(store.engine, issue, now=now) == 2
    slack_sub = store.subscriptions_for_chat("slack", "C1", "T1")[0].id
    with store.engine.begin() as conn:
        conn.execute(
            schema.deliveries.update()
            .where(schema.deliveries.c.subscription_id == slack_sub)
            .values(next_attempt_at=now + timedelta(hours=1))
        )
    return store


async def test_metrics_endpoint_reports_database_gauges(deliveries: Store) -> None:
    m = Metrics()
    m.commands.labels(platform="slack", command="energy").inc()
    app = create_app(routes=[metrics_route(deliveries, m)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == CONTENT_TYPE
    values = parse(answer.text)
    assert values["briefcast_database_up"] == 1
    assert values['briefcast_deliveries{platform="telegram",status="pending"}'] == 1
    assert values['briefcast_deliveries{platform="slack",status="pending"}'] == 1
    assert values['briefcast_deliveries{platform="telegram",status="sent"}'] == 0
    assert values["briefcast_queue_depth"] == 1  # the Slack one is due in an hour
    assert values["briefcast_queue_pending"] == 2
    assert values['briefcast_subscriptions_active{platform="telegram"}'] == 1
    assert values['briefcast_commands_served_total{platform="slack",command="energy"}'] == 1


async def test_metrics_survive_an_unreachable_database(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    store.close()
    (tmp_path / "m.db").unlink()
    (tmp_path / "m.db").mkdir()  # a directory where the database file was: every query fails
    app = create_app(routes=[metrics_route(store, Metrics())])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert parse(answer.text)["briefcast_database_up"] == 0


async def test_a_per_request_view_is_counted_and_uses_its_own_ops(store: Store) -> None:
    """Slack builds a view of the command table per request (Commands.with_ops, bound to the
    workspace's client). An instrumented table's wrapper closed over the table itself, so a view
    answered with the table's unbound ops ("SlackOps is not bound…", seen in the playground)."""
    from briefcast.bot.commands import Commands
    from briefcast.metrics import Metrics, instrument_commands
    from factories import GROUP, USER, Ops, group

    metrics = Metrics()
    table = instrument_commands(Commands(store, ops=Ops(), platform="telegram"), metrics)
    mine = Ops(admins={(GROUP, USER)})
    view = table.with_ops(mine)
    reply = await view.handle(group("subscribe", "energy", "08:00"))
    assert "08:00" in (reply.notice or "")
    assert mine.asked == [(GROUP, USER)] and table.ops.asked == []  # type: ignore[attr-defined]
    assert metrics.value("briefcast_commands_served_total", command="subscribe", platform="telegram") == 1.0
    assert len(table.wrappers) == 1 and view.wrappers is table.wrappers  # a view adds no wrapper
