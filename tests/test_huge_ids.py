"""Numbers too large to be a row id are "no such thing", never a database error.

PostgreSQL refuses to compare an INTEGER column with a larger number ("integer out of range"),
so a forged button, ``/issue 99999999999999999999`` or ``?issue=`` in a dashboard URL used to
raise instead of answering "not found".
"""

from __future__ import annotations

import httpx
import pytest

from briefcast.config import Settings
from briefcast.dashboard import dashboard_routes
from briefcast.ingest import IngestService
from briefcast.store import Store
from briefcast.web import create_app

HUGE = (2**31, 2**40, 10**20)


@pytest.mark.parametrize("value", HUGE)
def test_store_lookups_by_a_huge_id_find_nothing(store: Store, value: int) -> None:
    assert store.get_issue(value) is None
    assert store.get_subscription(value) is None
    assert store.publish_issue(value) is None
    assert store.discard_draft(value) is False


async def test_dashboard_pages_with_a_huge_issue_id(store: Store) -> None:
    app = create_app(routes=dashboard_routes(Settings(), store, ingest=IngestService(store)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        listing = await c.get("/dashboard/deliveries", params={"issue": str(10**20)})
        page = await c.get(f"/dashboard/issues/{2**40}")
    assert listing.status_code == 200
    assert page.status_code == 404
