"""Model-written English ([translate] provider) against a loopback server that speaks chat completions."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from .conftest import REAL, Install
from .receivers import Receiver
from .test_deliver import add_notices

KEY = "sk-test-0123456789abcdef"
DETAIL = (REAL / "pbc" / "detail_goutongjiaoliu_2025-annual-financial-statistics-report.html").read_bytes()
TITLE = "2025年金融统计数据报告"
GOOD = {"title": "PBC Releases the 2025 Financial Statistics Report",
        "summary": "The People's Bank of China published its financial statistics for 2025. It reports the "
                   "stock of social financing at the end of the year."}


class ChatServer:
    """POST /v1/chat/completions: answers queued per test (a reply, a status, a delay), requests recorded."""

    def __init__(self) -> None:
        self.answers: deque[tuple[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                kind, value = server.answers.popleft() if server.answers else ("reply", GOOD)
                if kind == "delay":
                    time.sleep(value)
                    kind, value = "reply", GOOD
                if kind == "status":
                    self.send_response(value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                content = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)
                data = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}],
                                   "usage": {"total_tokens": 321}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def chat(monkeypatch):
    monkeypatch.setenv("TEST_LLM_KEY", KEY)  # the config names it as ${TEST_LLM_KEY}
    server = ChatServer()
    yield server
    server.stop()


def setup(install: Install, chat: ChatServer, extra: str = "", subscription: str = "") -> None:
    install.write_config(
        'sources = ["pbc-news"]\n[poll]\nbackfill_pages = 1\n[detail]\nbaseline = false\n'
        '[delivery]\nhold_for_details_minutes = 0\nretry_base_seconds = 0.2\n'
        f'[translate]\nprovider = "openai-compatible"\nbase_url = "{chat.base_url}"\nmodel = "test-model"\n'
        f'api_key = "${{TEST_LLM_KEY}}"\nallow_private_base_url = true\ntimeout = 2\n{extra}\n{subscription}')


def new_notice(install: Install) -> None:
    item = add_notices(install, [TITLE])[0]
    install.replay.set_page("www.pbc.gov.cn" + item["href"], DETAIL, "text/html; charset=utf-8")


def notice(install: Install) -> dict:
    return next(n for n in install.cli_json("notices")["notices"] if n["title"] == TITLE)


def test_the_model_writes_title_and_summary_with_the_glossary_and_the_key_in_a_header_only(
    pbc_install: Install, chat: ChatServer
) -> None:
    setup(pbc_install, chat)
    assert pbc_install.cli("poll").exit_code == 0
    assert chat.requests == []  # the baseline is never sent to the model
    new_notice(pbc_install)
    result = pbc_install.cli("poll", "--all")
    assert result.exit_code == 0, result.output
    assert "English by test-model: 1 written" in result.stdout
    (request,) = chat.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == f"Bearer {KEY}"
    assert request["body"]["model"] == "test-model" and request["body"]["max_tokens"] == 400
    prompt = "\n".join(m["content"] for m in request["body"]["messages"])
    assert TITLE in prompt and "金融统计数据报告 = financial statistics report" in prompt  # the glossary's term
    assert "2025年末社会融资规模存量" in prompt or "社会融资规模" in prompt  # the body goes with it
    stored = notice(pbc_install)
    assert stored["title_en"] == GOOD["title"] and stored["summary_en"] == GOOD["summary"]
    with pbc_install.db() as conn:
        row = conn.execute("SELECT state, model, prompt_version FROM translations").fetchone()
        assert tuple(row) == ("done", "test-model", "2026.12.1")
        assert conn.execute("SELECT tokens, calls FROM translation_usage").fetchone()[:] == (321, 1)
    assert KEY not in result.output


def test_a_made_up_number_drops_what_holds_it_and_the_gloss_stands(pbc_install: Install, chat: ChatServer) -> None:
    setup(pbc_install, chat)
    assert pbc_install.cli("poll").exit_code == 0
    chat.answers.append(("reply", {"title": "PBC Releases the 1987 Financial Statistics Report",
                                   "summary": "Social financing grew by 999 percent in 2025."}))
    new_notice(pbc_install)
    result = pbc_install.cli("poll", "--all")
    assert "1 not grounded" in result.stdout
    stored = notice(pbc_install)
    assert stored["summary_en"] is None
    assert stored["title_en"] == "2025 Financial Statistics Report"  # the glossary's gloss, not a wrong year
    with pbc_install.db() as conn:
        state, error = conn.execute("SELECT state, error FROM translations").fetchone()
    assert state == "ungrounded" and "1987" in error and "999" in error


def test_a_failing_or_slow_model_leaves_the_gloss_is_retried_then_given_up(
    pbc_install: Install, chat: ChatServer
) -> None:
    setup(pbc_install, chat)
    assert pbc_install.cli("poll").exit_code == 0
    chat.answers.extend([("status", 500), ("delay", 3), ("reply", "no JSON here")])
    new_notice(pbc_install)
    outputs = [pbc_install.cli("poll", "--all").output for _ in range(4)]
    assert "1 to retry" in outputs[0]
    assert len(chat.requests) == 3  # three tries, then the gloss for good (no fourth call)
    assert notice(pbc_install)["title_en"] == "2025 Financial Statistics Report"
    with pbc_install.db() as conn:
        state, attempts, error = conn.execute("SELECT state, attempts, error FROM translations").fetchone()
    assert (state, attempts) == ("failed", 3) and "not the JSON object" in error
    assert all(KEY not in out for out in outputs)


def test_the_monthly_budget_stops_the_calls(pbc_install: Install, chat: ChatServer) -> None:
    setup(pbc_install, chat, extra="monthly_token_budget = 100")  # less than one answer's cap
    assert pbc_install.cli("poll").exit_code == 0
    new_notice(pbc_install)
    result = pbc_install.cli("poll", "--all")
    assert "token budget is spent" in result.stdout and chat.requests == []
    assert notice(pbc_install)["title_en"] == "2025 Financial Statistics Report"


def test_a_private_server_needs_saying_so(pbc_install: Install, chat: ChatServer) -> None:
    setup(pbc_install, chat)
    pbc_install.config_path.write_text(pbc_install.config_path.read_text(encoding="utf-8").replace(
        "allow_private_base_url = true", ""), encoding="utf-8")
    result = pbc_install.cli("check-config")
    assert result.exit_code == 2 and "allow_private_base_url" in result.output


def test_an_alert_may_wait_for_the_english_within_the_hold(pbc_install: Install, chat: ChatServer) -> None:
    receiver = Receiver("webhook").start()
    try:
        sub = (f'[[subscription]]\nname = "team"\nchannel = "webhook"\nurl = "{receiver.url}"\n'
               f'secret = "{receiver.secret}"\n')
        setup(pbc_install, chat, extra="hold_minutes = 5", subscription=sub)
        assert pbc_install.cli("poll").exit_code == 0
        new_notice(pbc_install)
        assert pbc_install.cli("poll", "--all").exit_code == 0
        (message,) = receiver.messages  # sent once, after the English came
        (sent,) = message.payload["data"]["notices"]
        assert sent["title_en"] == GOOD["title"] and sent["summary_en"] == GOOD["summary"]
    finally:
        receiver.stop()
