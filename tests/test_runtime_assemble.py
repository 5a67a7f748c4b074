"""What ``briefcast run`` assembles from the settings: playground or the configured platforms."""

from __future__ import annotations

from pathlib import Path

from briefcast.app import assemble
from briefcast.config import Secret, Settings, TelegramSettings
from briefcast.delivery.service import DeliveryService
from briefcast.emulators.telegram import DEFAULT_TOKEN, FakeTelegram
from briefcast.store import Store


def test_configured_telegram_gets_delivery_and_one_ingest_hook(store: Store) -> None:
    with FakeTelegram.in_thread() as tg:
        settings = Settings(
            telegram=TelegramSettings(token=Secret(DEFAULT_TOKEN), api_url=tg.base_url, operators=("7",)),
        )
        built = assemble(settings, store)
        try:
            assert built.playground is False
            assert [c.name for c in built.components] == ["telegram", "delivery"]
            bot, delivery = built.components
            assert isinstance(delivery, DeliveryService)
            publisher = getattr(bot, "publisher", None)
            assert publisher is not None  # operators are configured: uploads are accepted
            # uploads published from the bot trigger the same on-publish push as the API
            assert publisher.ingest.on_published == delivery.on_issue_published
            # replies are charged to the engine's flood budget (one bot token, one 30/s)
            reply_hook = getattr(bot, "on_reply", None)
            assert reply_hook is not None and reply_hook.func == delivery.engine.note_reply
            assert reply_hook.args == ("telegram",)
            paths = {getattr(r, "path", "") for r in built.routes}
            assert {"/metrics", "/api/issues", "/api/issues/{issue_id:int}"} <= paths
        finally:
            built.close()


def test_no_token_assembles_the_playground(store: Store) -> None:
    built = assemble(Settings(), store)
    try:
        assert built.playground is True
        names = [c.name for c in built.components]
        assert names == ["playground", "telegram", "slack", "delivery"]
        assert built.settings.telegram.token  # the overlay points the bots at the embedded fakes
        assert built.settings.telegram.api_url.startswith("http://127.0.0.1:")
    finally:
        built.close()


async def test_one_scheduler_runs_the_slot_tick_and_the_source_polls(store: Store, tmp_path: Path) -> None:
    """Issue 16: the delivery scheduler and the source pollers share the process's one APScheduler
    (they each had their own); stopping one component leaves the other's jobs running."""
    from briefcast.ingest.sources import SourcePolling
    from briefcast.schedule import TICK_JOB

    with FakeTelegram.in_thread() as tg:
        settings = Settings(
            telegram=TelegramSettings(token=Secret(DEFAULT_TOKEN), api_url=tg.base_url),
            sources=({"name": "inbox", "kind": "folder", "path": str(tmp_path)},),
        )
        built = assemble(settings, store)
        try:
            delivery = next(c for c in built.components if isinstance(c, DeliveryService))
            polling = next(c for c in built.components if isinstance(c, SourcePolling))
            assert polling.jobs is delivery.scheduler.jobs
            await delivery.start()
            await polling.start()
            jobs = polling.jobs
            assert sorted(jobs.job_ids()) == sorted([TICK_JOB, "source:inbox"]) and jobs.running
            await polling.stop()
            assert jobs.job_ids() == [TICK_JOB] and jobs.running
            await delivery.stop()
            assert not jobs.running and jobs.job_ids() == []
        finally:
            built.close()
