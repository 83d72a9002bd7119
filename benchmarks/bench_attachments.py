"""Benchmark: attachment text extraction per MB, and the service's memory while a large PDF is read.

Run by hand: `python benchmarks/bench_attachments.py [PAGES]` (needs the test extra: reportlab).
A text PDF of PAGES pages (default 800) and a 40 MB PDF (one text line and a 38 MB image, as scanned
annexes are) are made by a child process and served by `regwatch replay` in another, then downloaded
the way the stage downloads (streamed to a temporary file under the size cap) and read by the same
child process as in the service. The figures: seconds per MB for each, and this process's peak RSS
(VmHWM) before and after — what the child reads is the child's, so the parent's peak should not move
by the file's size.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from regwatch.attachment_files import _read_text  # noqa: E402
from regwatch.config import AttachmentsConfig, FetchConfig  # noqa: E402
from regwatch.fetch import Fetcher  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loopback import free_port, wait_listening  # noqa: E402

LINE = "第{n}条 金融机构应当建立健全数据安全管理制度，落实数据分类分级保护要求，每年开展风险评估。"


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def text_pdf(pages: int) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pageCompression=0)
    for page in range(pages):
        pdf.setFont("STSong-Light", 10)
        for row in range(40):
            pdf.drawString(40, 800 - 19 * row, LINE.format(n=page * 40 + row + 1))
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def large_pdf(megabytes: int) -> bytes:
    """A few text pages and one big uncompressed image: 40 MB of PDF, little text."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    raw = os.urandom(side * side * 3)
    try:
        from PIL import Image
    except ImportError:
        raise SystemExit("needs Pillow (installed with reportlab)") from None
    image = Image.frombytes("RGB", (side, side), raw)
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pageCompression=0)
    pdf.drawString(40, 800, "Annex: scanned map (the text of this file is this line only)")
    pdf.drawImage(ImageReader(image), 40, 40, width=500, height=500)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


async def fetch_and_read(base: str, path: str, size: int) -> tuple[float, dict]:
    config = FetchConfig(rewrite_to=base, per_host_delay=0)
    started = time.perf_counter()
    async with Fetcher(config) as fetcher:
        with tempfile.NamedTemporaryFile() as file:
            result = await fetcher.get(f"https://files.example.gov.cn/{path}", save_to=file, max_bytes=size + 1)
            assert result.status == 200, result.error
            file.flush()
            read = await _read_text(file.name, "pdf", AttachmentsConfig(timeout=300))
    return time.perf_counter() - started, read


def make_files(root: Path, pages: int) -> None:
    site = root / "files.example.gov.cn"
    site.mkdir(parents=True)
    (site / "text.pdf").write_bytes(text_pdf(pages))
    (site / "large.pdf").write_bytes(large_pdf(38))
    (site / "small.pdf").write_bytes(text_pdf(2))


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 800
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        subprocess.run([sys.executable, __file__, "--make", work, str(pages)], check=True)  # not in our memory
        text, large = (root / "files.example.gov.cn" / "text.pdf"), (root / "files.example.gov.cn" / "large.pdf")
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "regwatch", "replay", work, "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(port)
            base = f"http://127.0.0.1:{port}"
            asyncio.run(fetch_and_read(base, "small.pdf", 1_000_000))  # warm-up: imports, TLS context, client
            before = peak_rss_mb()
            text_seconds, text_read = asyncio.run(fetch_and_read(base, "text.pdf", text.stat().st_size))
            large_seconds, large_read = asyncio.run(fetch_and_read(base, "large.pdf", large.stat().st_size))
            after = peak_rss_mb()
        finally:
            server.terminate()
            server.wait()
        text_bytes, large_bytes = text.stat().st_size, large.stat().st_size
    mb = 1024 * 1024
    print(json.dumps({
        "text_pdf": {"mb": round(text_bytes / mb, 1), "pages": text_read.get("pages"), "state": text_read["state"],
                     "chars": len(text_read.get("text") or ""), "seconds": round(text_seconds, 2),
                     "seconds_per_mb": round(text_seconds / (text_bytes / mb), 3)},
        "large_pdf": {"mb": round(large_bytes / mb, 1), "state": large_read["state"],
                      "seconds": round(large_seconds, 2),
                      "seconds_per_mb": round(large_seconds / (large_bytes / mb), 3)},
        "service_peak_rss_mb": {"after_warm_up": round(before, 1), "after_both_files": round(after, 1)},
    }, indent=2))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--make"]:
        make_files(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
