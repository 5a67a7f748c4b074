"""2. Groups: 10 supergroups x 30 messages (one 30-part digest each) at 20 messages/min per group.

Target: zero 429s, parts in order, finish time within 5% of the floor. The floor is what the
limit allows at an even 20/min: the first message at once, then one every 3 s, so the 30th
leaves (30 - 1) x 3 = 87 s after the start. Finish time is measured from the engine's start to
the last message's arrival at the fake, so start-up and latency count against us. (Telegram's
window is sliding: a burst of 20 then 10 more a minute later would finish after ~60 s; the
engine deliberately spaces sends evenly instead, see ``briefcast.delivery.ratelimit``.)
"""

from __future__ import annotations

from bench import issues
from bench.common import Options, Result
from bench.fanout import group_chats, run_fanout

NAME = "group_limits"
LIGHT = True
PER_MINUTE = 20.0


def run(opts: Options) -> Result:
    groups = opts.size(10, 2)
    parts = opts.size(30, 3)
    markdown = issues.long_issue(parts)
    f = run_fanout(
        opts, chats=group_chats(groups), markdown=markdown, sectors=("energy",), chat_kind="supergroup"
    )
    check = f.correctness()
    floor = (parts - 1) * 60.0 / PER_MINUTE
    finish = (f.arrivals[-1] - f.report["t_start"]) if f.messages else float("inf")
    per_group = [ts[-1][0] - ts[0][0] for ts in f.by_chat.values() if ts]
    ok = (
        f.rate_limited == 0
        and check["chats_out_of_order"] == 0
        and check["chats_missing"] == 0
        and check["duplicate_messages"] == 0
        and finish <= floor * 1.05
    )
    return Result(
        NAME,
        finish,
        "s",
        f"0 x 429, parts in order, finish <= {floor * 1.05:.1f} s (even 20/min floor {floor:.0f} s + 5%)",
        ok,
        {
            "groups": groups,
            "parts_per_group": parts,
            "messages": f.messages,
            "floor_s": floor,
            "finish_over_floor": round(finish / floor, 4),
            "first_to_last_per_group_s": [
                round(x, 2) for x in sorted(per_group)[:1] + sorted(per_group)[-1:]
            ],
            "http_429": f.rate_limited,
            **check,
            "outbox": f.outbox,
        },
    )
