"""Operator uploads on Slack: files shared in a DM, fetched (files.info, download) for the publish flow."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from briefcast.bot.commands import Request
from briefcast.bot.publish import PublishFlow, UploadInfo
from briefcast.bot.slack.common import error_code, reply_payloads
from briefcast.bot.slack.send import post
from briefcast.ingest.capped import OverCap, aread_capped

log = logging.getLogger(__name__)

# Files handled per file_share message, and the timeout of one download.
MAX_UPLOAD_FILES = 5
DOWNLOAD_TIMEOUT = 30.0


class DownloadError(Exception):
    """A shared file could not be fetched (HTTP error, sign-in page, truncated, over the cap)."""


async def download_file(url: str, token: str, *, expected: int | None, max_bytes: int) -> bytes:
    """GET a file's ``url_private`` with the bot token as bearer; at most ``max_bytes`` are read.

    Slack answers a bad token with its sign-in page and status 200, so the
    length is checked against ``files.info``'s size when it is known. The token
    is only sent, never logged (httpx logs URLs, which carry no token here).
    """
    async with (
        httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as http,
        http.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        if response.status_code != 200:
            raise DownloadError(f"HTTP {response.status_code}")
        try:
            data = await aread_capped(response, max_bytes)
        except OverCap:
            raise DownloadError(f"more than {max_bytes} bytes") from None
    if expected is not None and len(data) != expected:
        raise DownloadError(f"got {len(data)} bytes, files.info says {expected} (not authorised?)")
    return data


async def receive_files(
    publisher: PublishFlow,
    client: AsyncWebClient,
    request: Request,
    channel: str,
    files: Sequence[dict[str, Any]],
) -> None:
    """The files of one DM message: each goes through the publish flow (operators only; others refused)."""
    if not publisher.is_operator(request.user_id):
        # refused before any file is looked at; one answer for the whole message
        first = UploadInfo(str(files[0].get("name") or "") if files else "")
        refusal = publisher.screen(request, first)
        if refusal is not None:
            await post(client, channel, reply_payloads(refusal))
        return
    for shared in files[:MAX_UPLOAD_FILES]:
        await upload_file(publisher, client, request, channel, shared)


async def upload_file(
    publisher: PublishFlow, client: AsyncWebClient, request: Request, channel: str, shared: dict[str, Any]
) -> None:
    """One shared file: files.info, screen, download, then post the preview and the summary."""
    info = shared
    try:
        # events may carry a partial file object ("file_access": "check_file_info")
        info = (await client.files_info(file=str(shared.get("id") or ""))).get("file") or shared
    except SlackApiError as e:
        log.info("files.info(%s) failed: %s", shared.get("id"), error_code(e))
    size = info.get("size")
    upload = UploadInfo(
        str(info.get("name") or shared.get("name") or "file"),
        int(size) if isinstance(size, int) else None,
        str(info.get("mimetype") or ""),
    )
    refused = publisher.screen(request, upload)
    if refused is not None:
        await post(client, channel, reply_payloads(refused))
        return
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    try:
        if not url or not client.token:
            raise DownloadError("no url_private or no token")
        data = await download_file(url, client.token, expected=upload.size, max_bytes=publisher.max_bytes)
    except (DownloadError, httpx.HTTPError) as e:
        log.warning("downloading the upload %r failed: %s", upload.name, e)
        await post(client, channel, reply_payloads(publisher.download_failed(request, upload)))
        return
    result = await publisher.receive(request, upload, data)
    refused_count = 0
    reason = ""
    for payload in result.preview:
        if not await post(client, channel, [payload]):
            refused_count += 1
            reason = reason or "chat.postMessage"
    if refused_count:
        notice = publisher.preview_rejected(request, refused_count, reason)
        await post(client, channel, reply_payloads(notice))
    await post(client, channel, reply_payloads(result.reply))
