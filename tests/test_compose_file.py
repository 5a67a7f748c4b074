"""docker-compose.yml: the services, commands and health wiring an operator relies on.

There is no Docker engine here, so the file is checked as data; ``docker compose config``
(which needs no engine) runs too when the compose plugin is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _command(service: dict[str, Any]) -> str:
    entry = service.get("entrypoint") or ["briefcast"]  # the image's ENTRYPOINT
    return " ".join([*entry, *service["command"]])


def test_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "briefcast", "worker"}
    assert compose["services"]["postgres"]["image"] == "postgres:16"


def test_briefcast_migrates_then_runs(compose: dict[str, Any]) -> None:
    svc = compose["services"]["briefcast"]
    assert _command(svc) == "/bin/sh -c briefcast db upgrade && exec briefcast run"
    assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(svc["healthcheck"]["test"])
    assert svc["ports"] == ["127.0.0.1:8080:8080"]


def test_worker_is_scalable(compose: dict[str, Any]) -> None:
    svc = compose["services"]["worker"]
    assert _command(svc) == "briefcast worker"
    # `--scale worker=3` fails with a fixed container name or a published host port
    assert "container_name" not in svc
    assert "ports" not in svc
    assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert svc["depends_on"]["briefcast"]["condition"] == "service_healthy"  # migrations done


def test_database_url_points_at_postgres(compose: dict[str, Any]) -> None:
    for name in ("briefcast", "worker"):
        env = compose["services"][name]["environment"]
        assert env["BRIEFCAST_DATABASE_URL"].startswith("postgresql+psycopg://briefcast:")
        assert env["BRIEFCAST_DATABASE_URL"].endswith("@postgres:5432/briefcast")
        assert env["BRIEFCAST_HTTP_HOST"] == "0.0.0.0"
        # secrets come from the environment, never from the file
        for key in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "BRIEFCAST_API_TOKEN", "SLACK_SIGNING_SECRET"):
            assert env[key].startswith("${"), key


def test_postgres_healthcheck(compose: dict[str, Any]) -> None:
    check = compose["services"]["postgres"]["healthcheck"]
    assert "pg_isready" in " ".join(check["test"])
    assert "pgdata" in compose["volumes"]


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_config_accepts_the_file() -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("the docker compose plugin is not installed here (no `docker compose`/`docker-compose`)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "BRIEFCAST_"))}
    result = subprocess.run(
        [*cli, "-f", str(COMPOSE), "config", "--quiet"], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
