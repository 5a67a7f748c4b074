"""Weekday schedules on Slack: ``/briefing subscribe energy 08:00 mon,wed,fri`` through the real
bolt app against the fake Slack Web API (``test_slack_app``'s harness). See test_weekdays.py."""

# The fixtures are imported from test_slack_app, so test arguments "redefine" them (F811).
# ruff: noqa: F811

from __future__ import annotations

from briefcast.store import Store
from test_slack_app import (  # the real bolt app against the fake Slack
    Harness,
    answer_text,
    fake,  # noqa: F401
    h,  # noqa: F401
    issue,  # noqa: F401
    policy,  # noqa: F401
)

MWF = 0b0010101


async def test_days_on_slack(h: Harness, store: Store) -> None:
    said = await answer_text(h, "subscribe energy 08:00 fri,mon,wed")
    assert "Mon, Wed, Fri 08:00" in said
    [sub] = store.active_subscriptions()
    assert sub.days == MWF
    listing = await answer_text(h, "subscriptions")
    assert "Mon, Wed, Fri 08:00" in listing
    bad = await answer_text(h, "subscribe energy 08:00 someday")
    assert bad.startswith("\u201csomeday\u201d is not a day of the week")


async def test_weekly_rollup_on_slack(h: Harness, store: Store) -> None:
    """``/briefing subscribe all weekly mon 09:00``: a weekly roll-up subscription of the channel."""
    said = await answer_text(h, "subscribe all weekly mon 09:00")
    assert "weekly roll-up Mon 09:00" in said
    [sub] = store.active_subscriptions()
    assert (sub.mode, sub.days, sub.time) == ("weekly", 0b0000001, "09:00")
    listing = await answer_text(h, "subscriptions")
    assert "weekly roll-up Mon 09:00" in listing
    back = await answer_text(h, "subscribe all daily")
    assert "weekly" not in back
    [sub] = store.active_subscriptions()
    assert (sub.mode, sub.days) == ("scheduled", 0b1111111)
