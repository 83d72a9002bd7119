"""`regwatch export`: CSV, JSON lines and .xlsx of the stored notices, filtered, hostile titles defused."""

from __future__ import annotations

import csv
import json

from openpyxl import load_workbook

from .conftest import Install
from .test_deliver import add_notices

HOSTILE = '=HYPERLINK("http://evil.example/","点击")'


def test_exports_hold_every_selected_notice_in_each_format(pbc_install: Install, tmp_path) -> None:
    assert pbc_install.cli("poll").exit_code == 0
    add_notices(pbc_install, [HOSTILE, "关于侵害用户权益行为的APP通报"])
    assert pbc_install.cli("poll", "--all").exit_code == 0
    stored = pbc_install.cli_json("notices", "--limit", "1000")["count"]

    lines = tmp_path / "all.jsonl"
    assert pbc_install.cli("export", "--format", "jsonl", "-o", str(lines)).exit_code == 0
    records = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]
    assert len(records) == stored and records[0]["title"] == "关于侵害用户权益行为的APP通报"  # newest first
    assert records[0]["tags"] == ["personal-information", "apps"] and records[0]["title_en"]
    assert any(r["title"] == HOSTILE for r in records)  # JSON keeps the text as it is

    table = tmp_path / "enforcement.csv"
    result = pbc_install.cli("export", "-o", str(table), "--category", "Law Enforcement")
    assert result.exit_code == 0
    raw = table.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.DictReader(table.read_text(encoding="utf-8-sig").splitlines()))
    assert rows and all(r["category"] == "Law Enforcement" for r in rows)
    assert rows[0]["tags"] == "personal-information; apps"

    book = tmp_path / "all.xlsx"
    assert pbc_install.cli("export", "--format", "xlsx", "-o", str(book)).exit_code == 0
    sheet = load_workbook(book).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["id", "agency", "source", "title"] and len(values) == stored + 1
    titles = [row[3] for row in values[1:]]
    assert f"'{HOSTILE}" in titles and HOSTILE not in titles  # text, never a formula
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
