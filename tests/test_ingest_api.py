"""POST /api/issues and GET /api/issues/{id} through the ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from briefcast.briefing.model import Briefing
from briefcast.config import Secret
from briefcast.ingest import IngestService, recent_events
from briefcast.ingest.api import issue_routes
from briefcast.store import Store

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MD = {**AUTH, "Content-Type": "text/markdown; charset=utf-8"}


@pytest.fixture
def published() -> list[int]:
    return []


@pytest.fixture
async def client(store: Store, published: list[int]) -> AsyncIterator[httpx.AsyncClient]:
    service = IngestService(store, on_published=published.append, max_bytes=200_000)
    app = Starlette(routes=issue_routes(service, api_token=Secret(TOKEN)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://briefcast.test"
    ) as c:
        yield c


async def test_auth(client: httpx.AsyncClient, sample_en_md: Path) -> None:
    body = sample_en_md.read_bytes()
    r = await client.post("/api/issues", content=body, headers={"Content-Type": "text/markdown"})
    assert r.status_code == 401 and "Bearer" in r.json()["error"]
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = await client.post("/api/issues", content=body, headers={**MD, "Authorization": "Bearer wrong"})
    assert r.status_code == 401
    r = await client.post("/api/issues", content=body, headers={**MD, "Authorization": f"Basic {TOKEN}"})
    assert r.status_code == 401
    assert (await client.get("/api/issues/1")).status_code == 401


async def test_disabled_without_token(store: Store, sample_en_md: Path) -> None:
    app = Starlette(routes=issue_routes(IngestService(store), api_token=Secret("")))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/api/issues", content=sample_en_md.read_bytes(), headers=MD)
    assert r.status_code == 503 and "BRIEFCAST_API_TOKEN" in r.json()["error"]
    assert store.latest_issue() is None


async def test_post_markdown_duplicate_revision_and_get(
    client: httpx.AsyncClient, store: Store, sample_en_md: Path, published: list[int]
) -> None:
    body = sample_en_md.read_bytes()
    r = await client.post("/api/issues", content=body, headers=MD)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] == "new" and created["revision"] == 1
    assert created["sectors"][:3] == ["ai", "energy", "web3"]
    # the sample states no date: none is made up (issue #12); the report says what readers receive
    assert created["title"] == "Key Sectors Weekly" and created["date"] is None
    assert created["fidelity"]["complete"] and created["fidelity"]["items"]["percent"] == 100.0
    assert r.headers["Location"] == f"/api/issues/{created['id']}"
    assert published == [created["id"]]

    r = await client.post("/api/issues", content=body, headers=MD)
    assert r.status_code == 200 and r.json()["status"] == "duplicate" and r.json()["id"] == created["id"]

    r = await client.post("/api/issues", content=body.replace(b"60%", b"64%"), headers=MD)
    assert r.status_code == 201 and r.json()["status"] == "revision" and r.json()["revision"] == 2
    assert published == [created["id"], r.json()["id"]]

    r = await client.get(f"/api/issues/{created['id']}", headers=AUTH)
    assert r.status_code == 200
    model = r.json()
    assert model["id"] == created["id"] and model["revision"] == 1 and model["status"] == "published"
    briefing = Briefing.from_dict(model)
    assert briefing.sector_keys == tuple(created["sectors"])
    stored = store.get_issue(created["id"])
    assert stored is not None and briefing == stored.briefing

    r = await client.get("/api/issues/999999", headers=AUTH)
    assert r.status_code == 404 and "999999" in r.json()["error"]
    huge = "9" * 23  # beyond BIGINT: an internal error before issue #13
    r = await client.get(f"/api/issues/{huge}", headers=AUTH)
    assert r.status_code == 404
    events = recent_events(store, source="api")
    assert [e.status for e in events] == ["revision", "duplicate", "new"]


async def test_post_html_and_json(
    client: httpx.AsyncClient, store: Store, sample_html: Path, sample_md: Path
) -> None:
    r = await client.post(
        "/api/issues", content=sample_html.read_bytes(), headers={**AUTH, "Content-Type": "text/html"}
    )
    assert r.status_code == 201 and "ai" in r.json()["sectors"]

    # The Markdown sample is the same issue (date + title) in other words: a revision of the HTML one.
    payload = {"markdown": sample_md.read_text(encoding="utf-8"), "source": "newsroom"}
    r = await client.post("/api/issues", json=payload, headers=AUTH)
    assert r.status_code == 201 and r.json()["status"] in ("new", "revision")
    stored = store.get_issue(r.json()["id"])
    assert stored is not None and stored.source == "api:newsroom"
    assert [e.status for e in recent_events(store, source="api:newsroom")] == [r.json()["status"]]


async def test_post_json_variants(
    client: httpx.AsyncClient, store: Store, sample_md: Path, published: list[int]
) -> None:
    text = sample_md.read_text(encoding="utf-8")
    r = await client.post("/api/issues", json={"markdown": text, "publish": False}, headers=AUTH)
    assert r.status_code == 201 and r.json()["published"] is False
    assert published == []  # drafts are not announced
    r2 = await client.get(f"/api/issues/{r.json()['id']}", headers=AUTH)
    assert r2.json()["status"] == "draft"

    r = await client.post("/api/issues", json={"html": "<h1>x</h1>"}, headers=AUTH)
    assert r.status_code == 422 and "no sections" in r.json()["error"]
    r = await client.post("/api/issues", json={"text": text}, headers=AUTH)
    assert r.status_code == 422 and '"markdown"' in r.json()["error"]
    r = await client.post("/api/issues", json=[text], headers=AUTH)
    assert r.status_code == 422
    r = await client.post("/api/issues", json={"markdown": text, "publish": "no"}, headers=AUTH)
    assert r.status_code == 422 and "publish" in r.json()["error"]
    r = await client.post(
        "/api/issues", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]


async def test_draft_by_query(client: httpx.AsyncClient, sample_en_md: Path, published: list[int]) -> None:
    r = await client.post("/api/issues?publish=false", content=sample_en_md.read_bytes(), headers=MD)
    assert r.status_code == 201 and r.json()["published"] is False and published == []


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", "text/markdown", "empty"),
        (b"\xff\xfe\xfa\x81 nope", "text/markdown", "not valid"),
        (b"caf\xe9 \x81 nope", "text/markdown; charset=utf-8", "not valid UTF-8"),
        (b"# Just a title\n", "text/plain", "no sections"),
        (b"<html><body></body></html>", "text/html", "empty"),
    ],
)
async def test_unparseable_is_422(
    client: httpx.AsyncClient, store: Store, body: bytes, content_type: str, reason: str
) -> None:
    r = await client.post("/api/issues", content=body, headers={**AUTH, "Content-Type": content_type})
    assert r.status_code == 422
    assert reason in r.json()["error"]
    assert store.latest_issue() is None
    [event] = recent_events(store, source="api")
    assert event.status == "failed" and reason in event.reason


async def test_size_cap_413(client: httpx.AsyncClient, store: Store) -> None:
    big = b"# T\n\n## \xf0\x9f\xa4\x96 AI: x\n\n" + b"word " * 50_000  # 250 kB > the 200 kB cap
    r = await client.post("/api/issues", content=big, headers=MD)
    assert r.status_code == 413 and "200,000-byte limit" in r.json()["error"]

    async def chunks() -> AsyncIterator[bytes]:  # streamed, no Content-Length
        for _ in range(50):
            yield b"x" * 10_000

    r = await client.post("/api/issues", content=chunks(), headers=MD)
    assert r.status_code == 413
    assert store.latest_issue() is None


async def test_unsupported_media_type(client: httpx.AsyncClient, sample_en_md: Path) -> None:
    r = await client.post(
        "/api/issues", content=sample_en_md.read_bytes(), headers={**AUTH, "Content-Type": "application/pdf"}
    )
    assert r.status_code == 415 and "text/markdown" in r.json()["error"]


async def test_preview_route(client: httpx.AsyncClient, sample_en_md: Path) -> None:
    r = await client.post("/api/issues", content=sample_en_md.read_bytes(), headers=MD)
    issue_id = r.json()["id"]
    r = await client.get(f"/api/issues/{issue_id}/preview?lang=en", headers=AUTH)
    assert r.status_code == 200
    preview = r.json()
    assert [s["key"] for s in preview["sectors"]][:3] == ["ai", "energy", "web3"]
    ai = preview["sectors"][0]
    assert ai["payloads"]["telegram"][0]["parse_mode"] == "HTML"
    assert "blocks" in ai["payloads"]["slack"][0]
    r = await client.get(f"/api/issues/{issue_id}/preview?platform=fax", headers=AUTH)
    assert r.status_code == 422 and "fax" in r.json()["error"]
    assert json.dumps(preview)  # JSON all the way down


async def test_list_issues_is_json(
    client: httpx.AsyncClient, store: Store, sample_md: Path, sample_en_md: Path
) -> None:
    assert (await client.get("/api/issues")).status_code == 401  # the API's one rule: the bearer token
    empty = await client.get("/api/issues", headers=AUTH)
    assert empty.status_code == 200 and empty.json() == {"issues": []}
    await client.post("/api/issues", content=sample_md.read_bytes(), headers=MD)
    await client.post("/api/issues?publish=false", content=sample_en_md.read_bytes(), headers=MD)
    listed = (await client.get("/api/issues", headers=AUTH)).json()["issues"]
    assert sorted(i["status"] for i in listed) == ["draft", "published"]  # drafts too: operators only
    assert {"id", "revision", "title", "date", "status", "sectors", "created_at", "published_at"} == set(
        listed[0]
    )
    published_only = (await client.get("/api/issues?status=published", headers=AUTH)).json()["issues"]
    assert [i["status"] for i in published_only] == ["published"] and published_only[0]["sectors"]
    one = (await client.get("/api/issues?limit=1", headers=AUTH)).json()["issues"]
    assert len(one) == 1
    bad = await client.get("/api/issues?limit=0", headers=AUTH)
    assert bad.status_code == 422 and "limit" in bad.json()["error"]
    assert (await client.get("/api/issues?status=gone", headers=AUTH)).status_code == 422


async def test_other_methods_get_a_json_405(client: httpx.AsyncClient) -> None:
    for method, path in (
        ("DELETE", "/api/issues"),
        ("PUT", "/api/issues/1"),
        ("POST", "/api/issues/1/preview"),
    ):
        answer = await client.request(method, path, headers=AUTH)
        assert answer.status_code == 405 and answer.headers["content-type"] == "application/json"
        assert f"{method} is not allowed here" in answer.json()["error"]
    assert (await client.request("DELETE", "/api/issues")).headers["allow"] == "GET, HEAD, POST"
