"""Full-text search over stored notices (SQLite FTS5), for Chinese and English alike.

Chinese has no spaces between words and most queries are two characters (数据, 出境), shorter than
FTS5's trigram tokenizer can match. So the index holds every pair of neighbouring Chinese characters
as a token (个人 人信 信息 …, as Lucene's CJK analyser does) and a Chinese query becomes the phrase of its
pairs: 个人信息 matches exactly where those four characters stand together, 出境 is one token. A
one-character query falls back to a scan. English words are tokens as usual (case and accents folded).
Results are ranked among the newest `RANK_WINDOW` matches (a title hit counting 4× a body hit, damped by
length), so a common word answers as fast as a rare one; BM25 would need every match of a phrase
counted first, which on a million notices costs more than the answer is worth.

A notice whose text changes is re-indexed in the transaction that changes it. A notice just inserted is
only queued (`search_pending`): indexing 20,000 baseline titles was a third of storing them, and a poll
is not a search. The queue is indexed before anything searches — `regwatch search` and `browse` do it
first, the service once none of its passes is running (its web view reads without writing, and
scans the queue beside the index).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from typing import Any

from .db import ANY_OF, dict_rows, json_list, transaction
from .filters import NoticeFilter, filter_sql, text_sql

_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_TERM = re.compile(r'"([^"]+)"|(\S+)')
_WORD = re.compile(r"[\w\u3400-\u9fff]+")
RANK_WINDOW = 1000  # matches ranked per query: the newest ones


def _pairs(run: str) -> str:
    return run if len(run) == 1 else " ".join(run[i:i + 2] for i in range(len(run) - 1))


def spaced(text: str) -> str:
    """The text as the index sees it: each run of Chinese as its overlapping character pairs."""
    return _CJK_RUN.sub(lambda m: f" {_pairs(m.group(0))} ", text or "")


def index_notices(conn: sqlite3.Connection, notice_ids: Iterable[int]) -> None:
    """(Re)index these notices' title and text (body, attachments); call in the transaction that changed them."""
    ids = list(notice_ids)
    if not ids:
        return
    conn.execute(f"DELETE FROM search_pending WHERE notice_id IN {ANY_OF}", (json_list(ids),))  # indexed now
    conn.executemany("DELETE FROM notice_search WHERE rowid = ?", [(i,) for i in ids])
    _insert_index(conn, ids)


def _insert_index(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Index these notices' title and text as they stand (they have no entry in the index now)."""
    rows = conn.execute(f"SELECT id, title, {text_sql()} FROM notices WHERE id IN {ANY_OF}",
                        (json_list(ids),)).fetchall()
    conn.executemany("INSERT INTO notice_search (rowid, title, body) VALUES (?, ?, ?)",
                     [(row[0], spaced(row[1]), spaced(row[2])) for row in rows])


def queue_new(conn: sqlite3.Connection, notice_ids: Iterable[int]) -> None:
    """Queue notices just inserted for the index (see the module's note); `index_pending` indexes them."""
    conn.executemany("INSERT OR IGNORE INTO search_pending (notice_id) VALUES (?)", [(i,) for i in notice_ids])


def index_pending(conn: sqlite3.Connection, limit: int = -1) -> int:
    """Index queued notices (at most `limit`; -1: all), as they stand now, in one transaction; how many."""
    with transaction(conn):
        ids = [row[0] for row in conn.execute("SELECT notice_id FROM search_pending ORDER BY notice_id LIMIT ?",
                                              (limit,))]
        if not ids:
            return 0
        _insert_index(conn, ids)
        conn.execute(f"DELETE FROM search_pending WHERE notice_id IN {ANY_OF}", (json_list(ids),))
    return len(ids)


def query_words(query: str) -> list[str]:
    """The words of a query (letters, digits, Chinese), without its operators and punctuation."""
    return [word for quoted, bare in _TERM.findall(query) for word in _WORD.findall(quoted or bare)]


def fts_query(query: str) -> str:
    """A user's query as an FTS5 expression: each word (or "quoted phrase") must appear; a Chinese word
    is the phrase of its character pairs. Operators and punctuation are never passed through."""
    phrases = []
    for quoted, bare in _TERM.findall(query):
        for words in ([_WORD.findall(quoted)] if quoted else [[w] for w in _WORD.findall(bare)]):
            tokens = spaced(" ".join(words)).split()
            if tokens:
                phrases.append('"' + " ".join(tokens) + '"')
    return " AND ".join(phrases)


def search(conn: sqlite3.Connection, query: str, where: NoticeFilter, limit: int) -> list[dict[str, Any]]:
    """Notices matching `query`, best first, among the newest RANK_WINDOW matches (see `score`)."""
    words = query_words(query)
    single = [w for w in words if len(w) == 1 and _CJK_RUN.fullmatch(w)]
    expression = fts_query(query if not single else " ".join(w for w in words if w not in single))
    if not expression and not single:
        return []
    clauses: list[str] = []
    params: list[Any] = []
    if expression:
        clauses.append("notice_search MATCH ?")
        params.append(expression)
    for char in single:  # one Chinese character is no pair: look for it the slow way
        clauses.append(f"(instr(n.title, ?) > 0 OR instr({text_sql('n')}, ?) > 0)")
        params += [char, char]
    filtered, values = filter_sql(where)
    clauses += filtered
    params += values
    columns = ("SELECT n.id, n.title, n.url, n.agency, n.source_id, n.published, n.category, n.tags,"
               f" {text_sql('n')} AS body")
    if expression:  # newest matches first: FTS5 walks its doclists by rowid and stops at the window
        sql = (f"{columns} FROM notice_search JOIN notices n ON n.id = notice_search.rowid"
               f" WHERE {' AND '.join(clauses)} ORDER BY notice_search.rowid DESC LIMIT ?")
    else:
        sql = f"{columns} FROM notices n WHERE {' AND '.join(clauses)} ORDER BY n.id DESC LIMIT ?"
    with dict_rows(conn):
        found = [dict(row) for row in conn.execute(sql, [*params, RANK_WINDOW]).fetchall()]
        if expression:  # (the scan of every notice above already read the queued ones)
            found += _search_pending(conn, columns, words, where)
    for row in found:
        row["score"] = score(words, row["title"], row["body"])
    found.sort(key=lambda row: (-row["score"], -row["id"]))
    return found[:limit]


def _search_pending(conn: sqlite3.Connection, columns: str, words: list[str],
                    where: NoticeFilter) -> list[dict[str, Any]]:
    """The queued notices that hold every word (a scan: the queue is short once anything has indexed it;
    a reader — the service's web view — cannot index it itself)."""
    if not words or conn.execute("SELECT 1 FROM search_pending LIMIT 1").fetchone() is None:
        return []
    clauses = [f"(instr(lower(n.title), ?) > 0 OR instr(lower({text_sql('n')}), ?) > 0)" for _ in words]
    params: list[Any] = [w.lower() for word in words for w in (word, word)]
    filtered, values = filter_sql(where)
    sql = (f"{columns} FROM search_pending p JOIN notices n ON n.id = p.notice_id"
           f" WHERE {' AND '.join(clauses + filtered)} ORDER BY n.id DESC LIMIT ?")
    return [dict(row) for row in conn.execute(sql, [*params, *values, RANK_WINDOW]).fetchall()]


def score(words: list[str], title: str, body: str) -> float:
    """How well a notice answers the words: each occurrence in the title counts 4× one in the body, both
    damped by the text's length (a word in a short title says more than one in a long report)."""
    title_l, body_l = title.lower(), body.lower()
    total = 0.0
    for word in (w.lower() for w in words):
        total += 4.0 * title_l.count(word) / (1 + len(title) / 40) + body_l.count(word) / (1 + len(body) / 400)
    return round(total, 4)


def snippet(query: str, title: str, body: str, width: int = 40) -> list[tuple[str, bool]]:
    """Where the query's words are, as (text, is a hit) pieces: around the first hit in the body, else in
    the title, else the title's start. Pieces, not markup, so each caller marks hits its own way."""
    words = sorted({w.lower() for w in query_words(query)}, key=len, reverse=True)
    for text in (body, title):
        lowered = text.lower()
        hits = [lowered.find(w) for w in words if w in lowered]
        if not hits:
            continue
        first = min(hits)
        start = max(0, first - width)
        end = first + width * 2
        window = " ".join(text[start:end].split())
        pattern = re.compile("|".join(re.escape(w) for w in words), re.I)
        pieces: list[tuple[str, bool]] = [("…", False)] if start else []
        at = 0
        for match in pattern.finditer(window):
            pieces += [(window[at:match.start()], False), (match.group(0), True)]
            at = match.end()
        pieces.append((window[at:] + ("…" if end < len(text) else ""), False))
        return [piece for piece in pieces if piece[0]]
    return [(" ".join(title.split())[:width * 2], False)]
