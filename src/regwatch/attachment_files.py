"""The attachment stage: download each new notice's attachments and read their text.

Runs after the detail pages (which list the files). Files come from the notice's own site only, with
the same politeness as every request, streamed to a temporary file under a per-file and a per-notice
size cap. The text is read by a child process (`python -m regwatch.parse.attachment`) with memory and
CPU limits and a timeout, so a 40 MB PDF or a decompression bomb never weighs on the service; one bad
file is a state of that file (`failed`, `text-unavailable`, `too-large`), never a failed notice; every
file is downloaded and hashed, and what it is comes from its bytes (a ".doc" link may serve a PDF). A
download that fails for now is retried with backoff like a detail page. Once a notice's files are all
settled, their text joins the notice for search, classification and thin-bodied summaries.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sqlite3
import sys
import tempfile
from dataclasses import dataclass

from .config import AttachmentsConfig, Config
from .fetch import Fetcher
from .health import assess_response
from .parse.attachment import sniff
from .parse.detail import find_deadline_sentence, find_effective
from .parse.html_list import host_of
from .store.attachments import (
    PendingAttachment,
    notice_texts,
    pending_attachments,
    record_attachment,
    record_attachment_failure,
    settle_notice,
    unsettled,
)
from .store.classification import Classify
from .watchlist import Source

log = logging.getLogger(__name__)
MB = 1024 * 1024
@dataclass
class AttachmentReport:
    read: int = 0  # text extracted
    unreadable: int = 0  # text-unavailable, too-large, failed for good, skipped
    retrying: int = 0


async def fetch_attachments(config: Config, fetcher: Fetcher, conn: sqlite3.Connection, sources: list[Source],
                            classify: Classify) -> AttachmentReport:
    """Read the due attachments of these sources (at most `attachments.max_per_poll` files)."""
    report = AttachmentReport()
    if not config.attachments.enabled:
        return report
    by_id = {s.id: s for s in sources}
    todo = pending_attachments(conn, list(by_id), config.attachments.max_per_poll)
    readers = asyncio.Semaphore(1)  # one child process reading at a time (the machine has other work)
    await asyncio.gather(*(_one(config, fetcher, conn, by_id[item.source_id], item, report, readers)
                           for item in todo))
    for notice_id in sorted({item.notice_id for item in todo}):
        if unsettled(conn, notice_id) == 0:
            notice = notice_texts(conn, notice_id)
            files = notice.attachment_text
            verdict = classify(notice.title, f"{notice.body}\n{files}", notice.source_id, notice.agency)
            settle_notice(conn, notice_id, files, verdict, find_deadline_sentence(files) if files else None,
                          find_effective(files, notice.published) if files else None)
    return report


async def _one(config: Config, fetcher: Fetcher, conn: sqlite3.Connection, source: Source,
               item: PendingAttachment, report: AttachmentReport, readers: asyncio.Semaphore) -> None:
    options = config.attachments
    sites = {host_of(source.url), host_of(source.page_url), host_of(item.notice_url or "")}
    if host_of(item.url) not in sites:
        record_attachment(conn, item.id, "skipped", error=f"on another site ({host_of(item.url)}): not downloaded")
        report.unreadable += 1
        return
    cap = int(min(options.max_file_mb * MB, options.max_notice_mb * MB - item.notice_bytes))
    if cap <= 0:
        record_attachment(conn, item.id, "too-large", error=f"the notice's files passed [attachments] max_notice_mb "
                                                            f"({options.max_notice_mb:g} MB)")
        report.unreadable += 1
        return
    with tempfile.NamedTemporaryFile(prefix="regwatch-attachment-") as file:
        result = await fetcher.get(item.url, headers={**dict(source.headers), "Referer": item.notice_url or source.url},
                                   save_to=file, max_bytes=cap)
        file.flush()
        if result.error_kind == "too_large":
            record_attachment(conn, item.id, "too-large", error=f"larger than {cap / MB:.1f} MB ([attachments] "
                                                                "max_file_mb / max_notice_mb): not downloaded")
            report.unreadable += 1
            return
        if result.status in (404, 410) or result.error_kind in ("bad_url", "redirect_refused"):
            record_attachment(conn, item.id, "failed", error=result.error or f"HTTP {result.status}: the file is gone")
            report.unreadable += 1
            return
        verdict = assess_response(result)
        if verdict is not None:
            state = record_attachment_failure(conn, item, verdict[1] or "no answer", config.detail.max_attempts,
                                              config.detail.retry_minutes)
            if state == "failed":
                report.unreadable += 1
                log.warning("attachment %s: giving up: %s", item.url, verdict[1])
            else:
                report.retrying += 1
            return
        size, digest, head = _measure(file.name)
        async with readers:
            read = await _read_text(file.name, item.type, options)
    kind = read.get("kind") or sniff(head, item.type)
    record_attachment(conn, item.id, read["state"], kind=kind, size=size, sha256=digest,
                      content_type=result.headers.get("content-type"), pages=read.get("pages"),
                      text=read.get("text") or None, error=read.get("reason") or None)
    if read["state"] == "done":
        report.read += 1
    else:
        report.unreadable += 1
        log.info("attachment %s: %s (%s)", item.url, read["state"], read.get("reason"))


def _measure(path: str) -> tuple[int, str, bytes]:
    """Size, SHA-256 and the first bytes of a downloaded file, read in chunks."""
    digest, size, head = hashlib.sha256(), 0, b""
    with open(path, "rb") as fh:
        while chunk := fh.read(MB):
            if not head:
                head = chunk[:4096]
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest(), head


async def _read_text(path: str, declared: str, options: AttachmentsConfig) -> dict:
    """The child's reading of one file, or why there is none (killed at its limits, timed out, crashed)."""
    memory, seconds = options.memory_mb * MB, max(1, int(options.timeout))
    # The child lowers its own limits before it reads (no preexec_fn: forking a threaded process and
    # running Python before exec can deadlock); a hostile file meets them, not the service.
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "regwatch.parse.attachment", path, declared, str(options.max_chars), str(memory),
        str(seconds), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    try:
        out, err = await asyncio.wait_for(child.communicate(), timeout=options.timeout + 5)
    except TimeoutError:
        child.kill()
        await child.wait()
        return {"state": "failed", "reason": f"reading it took longer than {options.timeout:g} s "
                                             "([attachments] timeout)"}
    code = child.returncode or 0
    if code != 0:
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {code}"]
        if code < 0 or "MemoryError" in last[0]:
            return {"state": "failed", "reason": f"reading it passed the limits ([attachments] memory_mb "
                                                 f"{options.memory_mb}, timeout {options.timeout:g} s)"}
        return {"state": "failed", "reason": f"the reader failed: {last[0][:200]}"}
    try:
        return json.loads(out)
    except ValueError:
        return {"state": "failed", "reason": "the reader gave no answer"}
