"""The ``briefcast`` CLI through typer's CliRunner, plus one real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from briefcast.cli import app
from briefcast.config import Settings
from briefcast.store import Store

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A runner in an empty directory, with no settings from the environment or a config file."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("BRIEFCAST_", "TELEGRAM_", "SLACK_")):
            monkeypatch.delenv(name)
    return CliRunner()


def test_python_m_briefcast_parse_json(sample_md: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFCAST_")}
    proc = subprocess.run(
        [sys.executable, "-m", "briefcast", "parse", "examples/sample-issue.md", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert len(data["sections"]) == 4
    assert len(data["keywords"]) == 3
    assert len(data["links"]) == 17
    assert "硅谷" in proc.stdout  # ensure_ascii=False: CJK printed as is
    assert proc.stdout.startswith('{\n  "title"')  # indent=2


def test_parse_prints_plain_text(runner: CliRunner, sample_md: Path) -> None:
    result = runner.invoke(app, ["parse", str(sample_md)])
    assert result.exit_code == 0, result.output
    assert "⚡ 能源基建：储能需求爆发" in result.stdout
    assert "<b>" not in result.stdout and "](" not in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "error: file not found: {path}\n"),
        (b"# T\n\n\xc3\x28 broken", "error: {path} is not valid UTF-8 text (byte 0xc3 at offset 5)\n"),
        (b"", "error: {path} is empty\n"),
        (b"  \n\n", "error: {path} is empty\n"),
    ],
    ids=["missing", "undecodable", "empty", "blank"],
)
def test_parse_errors_are_one_line(
    runner: CliRunner, tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "issue.md"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["parse", str(path), "--json"])
    assert result.exit_code == 1
    assert result.stderr == message.format(path=path)
    assert result.stdout == ""
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_bad_url_is_one_line(runner: CliRunner) -> None:
    result = runner.invoke(app, ["parse", "http://127.0.0.1:9/issue.md"])
    assert result.exit_code == 1
    assert result.stderr == "error: could not fetch http://127.0.0.1:9/issue.md: connection failed\n"


def test_debug_shows_the_exception(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFCAST_DEBUG", "1")
    result = runner.invoke(app, ["parse", "missing.md"])
    assert result.exit_code == 1
    assert type(result.exception).__name__ == "SourceError"


def test_render_telegram_and_text(runner: CliRunner, sample_md: Path) -> None:
    tg = runner.invoke(
        app, ["render", str(sample_md), "--platform", "telegram", "--sector", "能源", "--json"]
    )
    assert tg.exit_code == 0, tg.output
    payloads = json.loads(tg.stdout)
    assert payloads and all(p["parse_mode"] == "HTML" for p in payloads)
    assert payloads[0]["text"].startswith("<b>⚡ 能源基建")

    txt = runner.invoke(app, ["render", str(sample_md), "--platform", "text", "--json", "--lang", "en"])
    assert txt.exit_code == 0, txt.output
    texts = json.loads(txt.stdout)
    assert len(texts) == 4 and all(isinstance(t, str) for t in texts)

    slack = runner.invoke(app, ["render", str(sample_md), "-p", "slack", "-s", "ai", "--compact", "--json"])
    assert slack.exit_code == 0, slack.output
    assert all("blocks" in p and p["text"] for p in json.loads(slack.stdout))


def test_render_unknown_sector_is_a_usage_error(runner: CliRunner, sample_md: Path) -> None:
    result = runner.invoke(app, ["render", str(sample_md), "--sector", "biotech"])
    assert result.exit_code == 2
    assert "biotech" in result.stderr


def test_ingest_twice_is_duplicate_and_show(runner: CliRunner, db_url: str, sample_md: Path) -> None:
    first = runner.invoke(app, ["--db", db_url, "ingest", str(sample_md)])
    assert first.exit_code == 0, first.output
    head, *report = first.stdout.splitlines()
    assert head == f"{sample_md}: id=1 revision=1 status=new sectors=ai,energy,web3,signals"
    # issue #12: every ingest shows what readers receive of the source, and what it noticed
    assert report[0] == "  fidelity: 61/61 items (100.0%), 17/17 links (100.0%)"
    assert any("no date" in line for line in report[1:])
    again = runner.invoke(app, ["--db", db_url, "ingest", str(sample_md)])
    assert again.stdout.splitlines()[0] == (
        f"{sample_md}: id=1 revision=1 status=duplicate sectors=ai,energy,web3,signals"
    )

    listing = runner.invoke(app, ["--db", db_url, "issues"])
    assert listing.exit_code == 0
    [line] = listing.stdout.splitlines()
    with Store.open(db_url, settings=Settings()) as store:
        stored = store.get_issue(1)
    assert stored is not None and stored.date is None  # no date in the file: none is made up (#12)
    assert line.split()[:4] == ["1", "undated", "r1", "published"]

    energy = runner.invoke(app, ["--db", db_url, "show", "energy"])
    assert energy.exit_code == 0, energy.output
    assert "储能需求爆发" in energy.stdout
    kw = runner.invoke(app, ["--db", db_url, "show", "keywords", "--issue", "1", "--platform", "slack"])
    assert kw.exit_code == 0, kw.output
    assert "推理成本" in json.loads(kw.stdout)[0]["text"]
    missing = runner.invoke(app, ["--db", db_url, "show", "--issue", "42"])
    assert missing.exit_code == 1
    assert missing.stderr == "error: no issue matches '42' (list them with: briefcast issues)\n"


def test_ingest_reports_failures_but_stores_the_rest(
    runner: CliRunner, sqlite_url: str, sample_md: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.md"
    empty.write_text("")
    title_only = tmp_path / "title.md"
    title_only.write_text("# Just a title\n")
    args = ["--db", sqlite_url, "ingest", "nope.md", str(empty), str(title_only), str(sample_md)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert errors[:2] == ["error: file not found: nope.md", f"error: {empty} is empty"]
    assert len(errors) == 3 and errors[2].startswith(f"error: {title_only}: ")
    assert "status=new" in result.stdout
    with Store.open(sqlite_url, settings=Settings()) as store:
        assert [i.title for i in store.list_issues()] == ["硅谷关键赛道周观察"]


def test_db_upgrade_and_run(runner: CliRunner, tmp_path: Path) -> None:
    up = runner.invoke(app, ["db", "upgrade"])  # default URL: ./data/briefcast.db in the cwd
    assert up.exit_code == 0, up.output
    from alembic.script import ScriptDirectory

    from briefcast.store.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert up.stdout == f"database sqlite:///./data/briefcast.db is at revision {head}\n"
    assert (tmp_path / "data" / "briefcast.db").is_file()

    run = runner.invoke(app, ["run", "--no-serve"])
    assert run.exit_code == 0, run.output
    first_line = run.stdout.splitlines()[0]
    assert first_line == "issue 1 (revision 1, new) from sample-issue.md: ai, energy, web3, signals"
    for heading in ("🤖 AI新能力", "⚡ 能源基建", "🌐 Web3金融", "🔗 跨界信号"):
        assert heading in run.stdout
    again = runner.invoke(app, ["run", "--no-serve"])
    assert again.stdout.splitlines()[0].startswith("issue 1 (revision 1, duplicate)")


def test_unreachable_database_is_one_line(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--db", "postgresql://nobody@127.0.0.1:1/x", "issues"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: database error: connection failed")
    assert result.stderr.count("\n") == 1


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["version"])
    assert result.stdout == "briefcast 0.1.0\n"


def _start_run(settings: dict[str, str]) -> subprocess.Popen[str]:
    """``python -m briefcast run`` with none of our own BRIEFCAST_/TELEGRAM_/SLACK_ variables,
    only ``settings``; stdout and stderr piped (UTF-8 text)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFCAST_", "TELEGRAM_", "SLACK_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "briefcast", "run"],
        cwd=REPO,
        env=env | settings,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Lines:
    """Every line of a process stream, read by a thread into a queue; wait for one without sleeping."""

    def __init__(self, stream: Any) -> None:
        import queue
        import threading

        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, needle: str, *, deadline: float) -> str:
        import queue

        while True:
            try:
                line = self._queue.get(timeout=deadline)
            except queue.Empty:
                raise AssertionError(f"no {needle!r} within {deadline} s: {self.seen}") from None
            if line is None:
                raise AssertionError(f"the stream ended before {needle!r}: {self.seen}")
            self.seen.append(line)
            if needle in line:
                return line

    def all(self, *, deadline: float = 30.0) -> str:
        """Everything, once the stream has ended (the process exited)."""
        self._thread.join(deadline)
        while not self._queue.empty():
            line = self._queue.get_nowait()
            if line is not None:
                self.seen.append(line)
        return "".join(self.seen)


def test_run_serves_the_playground_until_sigterm(tmp_path: Path) -> None:
    """README's main command: ingest the sample, serve the playground, stop cleanly on SIGTERM."""
    import signal

    import httpx

    port = _free_port()
    proc = _start_run(
        {"BRIEFCAST_HTTP_PORT": str(port), "BRIEFCAST_DATABASE_URL": f"sqlite:///{tmp_path}/run.db"}
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed after the sample is stored, before serving
        assert first.startswith("issue 1 (revision 1, new) from sample-issue.md"), first
        assert (
            proc.stdout.readline().strip()
            == f"no Telegram/Slack token configured: local playground at http://127.0.0.1:{port}/"
        )
        assert proc.stderr is not None
        _Lines(proc.stderr).wait_for("briefcast serving on", deadline=60.0)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as client:
            health = client.get("/healthz").json()
            assert health.get("status") == "ok", health
            checks = health["checks"]
            assert isinstance(checks, dict)
            assert {"database", "telegram", "slack", "delivery"} <= set(checks)
            page = client.get("/")
            assert page.status_code == 200 and "<html" in page.text.lower()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_with_a_token_serves_the_real_bot_and_leaves_the_sample_alone(tmp_path: Path) -> None:
    """Production mode: the configured bot starts against the Bot API; the demo issue is not stored."""
    import signal

    import httpx

    from briefcast.emulators.telegram import DEFAULT_TOKEN, FakeTelegram

    port = _free_port()
    db = f"sqlite:///{tmp_path}/prod.db"
    with FakeTelegram.in_thread() as tg:
        proc = _start_run(
            {
                "BRIEFCAST_HTTP_PORT": str(port),
                "BRIEFCAST_DATABASE_URL": db,
                "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
                "BRIEFCAST_TELEGRAM_API_URL": tg.base_url,
            }
        )
        try:
            assert proc.stdout is not None and proc.stderr is not None
            assert proc.stdout.readline().strip() == f"serving telegram, delivery on http://127.0.0.1:{port}/"
            logs = _Lines(proc.stderr)
            logs.wait_for("briefcast serving on", deadline=60.0)
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5.0).json()
            assert health["status"] == "ok" and {"telegram", "delivery"} <= set(health["checks"])
            assert tg.calls("setMyCommands")  # the command menus were registered
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
            output = logs.all()
            assert "telegram" in output and DEFAULT_TOKEN not in output  # the token never reaches the logs
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    with Store.open(db, settings=Settings()) as store:
        assert store.list_issues() == []


def test_watches_and_subscription_settings_for_operators(runner: CliRunner, db_url: str) -> None:
    from briefcast.store import ChatRef

    def cli(*args: str) -> str:
        result = runner.invoke(app, ["--db", db_url, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    assert cli("watches").strip() == "no watched words"
    # the same time-zone validator as the bots: any case in, the canonical name stored
    assert "at 07:30 Asia/Shanghai" in cli(
        "subs", "add", "telegram:42", "energy", "--time", "7:30", "--tz", "asia/shanghai"
    )
    store = Store.open(db_url, settings=Settings())
    try:
        store.set_options(ChatRef("telegram", "42"), variant="compact", silent=True)
        store.add_watches(ChatRef("telegram", "42"), ["钠电池", "Solid State"], mode="daily")
        store.add_watches(ChatRef("slack", "C01", workspace="T01"), ["储能"])
    finally:
        store.close()
    assert "energy  07:30 Asia/Shanghai  compact silent" in cli("subs", "list")
    rows = cli("watches").splitlines()
    assert len(rows) == 2
    assert "telegram:42  daily" in rows[0] and rows[0].rstrip().endswith("钠电池, Solid State")
    assert "slack:T01/C01  publish" in rows[1]
    assert [r for r in cli("watches", "--platform", "slack").splitlines()] == [rows[1]]
