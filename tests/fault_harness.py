"""Black-box fault harness: the real ``briefcast`` command against the fake Bot API.

Processes are started exactly as an operator starts them (``python -m briefcast ...``) with the
default delivery settings; only the platform URLs and tokens point at the local fakes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from briefcast.emulators.telegram import FakeTelegram

REPO = Path(__file__).resolve().parents[1]


def briefcast_env(db_url: str, tg: FakeTelegram | None = None, **extra: str) -> dict[str, str]:
    """The environment of an operator's shell: database, Telegram token and API URL, nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFCAST_", "TELEGRAM_", "SLACK_"))}
    env["BRIEFCAST_DATABASE_URL"] = db_url
    env["BRIEFCAST_CONFIG"] = str(REPO / "config" / "briefcast.toml")
    if tg is not None:
        env["TELEGRAM_BOT_TOKEN"] = tg.token
        env["BRIEFCAST_TELEGRAM_API_URL"] = tg.base_url
    env.update(extra)
    return env


def start(args: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """``briefcast ARGS...`` as a child process (stdout/stderr captured)."""
    return subprocess.Popen(
        [sys.executable, "-m", "briefcast", *args],
        env=dict(env),
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def run(
    args: Sequence[str], env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "briefcast", *args],
        env=dict(env),
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
