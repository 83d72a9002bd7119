"""Loopback receivers that behave like each chat platform (and a Standard Webhooks receiver).

Each checks what the real platform checks — path, content type, signature (with the algorithm of
channels.md), size limits, rate limits — and answers success or that platform's own error code.
Anything a platform would reject is also recorded in `rejections`, so tests can assert there were none.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DINGTALK_SECRET = "SECtest0123456789abcdef"
FEISHU_SECRET = "feishu-test-secret"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EVIL = ("<!channel>", "<@U024BE7LH>", "<https://evil.example|", "](https://evil.example", "<at user_id=\"all\">",
        "<at id=all>", "<@all>")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes
    payload: Any
    at: float


@dataclass
class Receiver:
    platform: str
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)
    script: deque = field(default_factory=deque)  # forced answers: (status, headers, body bytes)
    delay: float = 0.0
    _server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Receiver:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        base = f"http://127.0.0.1:{self.port}"
        return {
            "slack": f"{base}/services/T0123/B0456/abcdefghijklmnopqrstuvwx",
            "teams": f"{base}/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers"
                     "%2Fmanual%2Frun&sv=1.0&sig=testsig",
            "dingtalk": f"{base}/robot/send?access_token=test-token",
            "feishu": f"{base}/open-apis/bot/v2/hook/test-hook-id",
            "wecom": f"{base}/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
            "webhook": f"{base}/hooks/regwatch",
        }[self.platform]

    @property
    def secret(self) -> str:
        return {"dingtalk": DINGTALK_SECRET, "feishu": FEISHU_SECRET, "webhook": WEBHOOK_SECRET}.get(self.platform, "")

    def recent(self, seconds: float) -> int:
        now = time.monotonic()
        return sum(1 for m in self.messages if now - m.at < seconds)

    # -- what a platform answers ---------------------------------------------------------------------
    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.script:
            return self.script.popleft()
        try:
            payload = json.loads(raw)
        except ValueError:
            return self.reject("body is not JSON", 400, b"invalid_payload")
        check = getattr(self, f"check_{self.platform}")
        answer = check(path, headers, raw, payload)
        if answer is not None:
            return answer
        self.messages.append(Received(path, headers, raw, payload, time.monotonic()))
        return self.success()

    def reject(self, reason: str, status: int, body: bytes) -> tuple[int, dict[str, str], bytes]:
        self.rejections.append(reason)
        return status, {}, body

    def success(self) -> tuple[int, dict[str, str], bytes]:
        return {
            "slack": (200, {"Content-Type": "text/plain"}, b"ok"),
            "teams": (202, {}, b""),
            "dingtalk": (200, {}, b'{"errcode":0,"errmsg":"ok"}'),
            "feishu": (200, {}, b'{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}'),
            "wecom": (200, {}, b'{"errcode":0,"errmsg":"ok"}'),
            "webhook": (204, {}, b""),
        }[self.platform]

    def _json_type(self, headers: dict[str, str]) -> bool:
        return headers.get("content-type", "").startswith("application/json")

    def check_slack(self, path, headers, raw, payload):
        if not path.startswith("/services/") or not self._json_type(headers):
            return self.reject("slack: wrong path or content type", 400, b"invalid_payload")
        blocks = payload.get("blocks", [])
        if not payload.get("text") or len(blocks) > 50:
            return self.reject("slack: no text or too many blocks", 400, b"invalid_blocks")
        for block in blocks:
            if block["type"] == "header" and len(block["text"]["text"]) > 150:
                return self.reject("slack: header over 150", 400, b"invalid_blocks")
            if block["type"] == "section" and len(block["text"]["text"]) > 3000:
                return self.reject("slack: section over 3000", 400, b"invalid_blocks")
        mrkdwn = [payload["text"]] + [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
        slack_syntax = [token for token in EVIL if token.startswith("<")]  # mrkdwn links and mentions
        if any(token in text for text in mrkdwn for token in slack_syntax) or len(raw) > 40_000:
            return self.reject("slack: control sequence in mrkdwn or oversized", 400, b"invalid_payload")
        return None

    def check_teams(self, path, headers, raw, payload):
        query = parse_qs(urlsplit(path).query)
        if not all(k in query for k in ("api-version", "sp", "sv", "sig")) or not self._json_type(headers):
            return self.reject("teams: query or content type", 400, b'{"error":{"code":"MissingApiVersionParameter"}}')
        attachment = (payload.get("attachments") or [{}])[0]
        card = attachment.get("content") or {}
        actions = [a.get("type") for a in card.get("actions", [])]
        adaptive = "application/vnd.microsoft.card.adaptive"
        if (payload.get("type") != "message" or attachment.get("contentType") != adaptive
                or card.get("type") != "AdaptiveCard" or float(card.get("version", "9")) > 1.5
                or any(a != "Action.OpenUrl" for a in actions) or len(raw) > 20_000):
            return self.reject("teams: envelope, card or size", 400, b'{"error":{"code":"InvalidRequestContent"}}')
        texts = json.dumps(card["body"], ensure_ascii=False)
        if any(token in texts for token in EVIL):
            return self.reject("teams: forged link or mention", 400, b'{"error":{"code":"InvalidRequestContent"}}')
        return None

    def check_dingtalk(self, path, headers, raw, payload):
        query = parse_qs(urlsplit(path).query, keep_blank_values=True)
        if query.get("access_token") != ["test-token"]:
            return 200, {}, b'{"errcode":300001,"errmsg":"token is not exist"}'
        if not self._json_type(headers):
            return self.reject("dingtalk: content type", 200, b'{"errcode":43004,"errmsg":"bad content type"}')
        timestamp = (query.get("timestamp") or ["0"])[0]
        raw_sign = urlsplit(path).query.split("sign=", 1)[-1].split("&")[0]
        expected = base64.b64encode(hmac.new(DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(),
                                             hashlib.sha256).digest()).decode()
        if abs(int(timestamp) - time.time() * 1000) > 3_600_000:
            return self.reject("dingtalk: timestamp", 200, b'{"errcode":310000,"errmsg":"invalid timestamp"}')
        if unquote(raw_sign) != expected:
            return self.reject("dingtalk: sign", 200, b'{"errcode":310000,"errmsg":"sign not match"}')
        if payload.get("msgtype") not in ("text", "link", "markdown", "actionCard", "feedCard") or len(raw) > 20_000:
            return self.reject("dingtalk: msgtype or size", 200, b'{"errcode":400105,"errmsg":"bad msgtype"}')
        if self.recent(60) >= 20:
            return self.reject("dingtalk: over 20/min", 200, b'{"errcode":410100,"errmsg":"send too fast"}')
        text = payload["markdown"]["text"] if payload["msgtype"] == "markdown" else ""
        if any(token in text for token in EVIL) or payload.get("at", {}).get("isAtAll"):
            return self.reject("dingtalk: forged link or mention", 200, b'{"errcode":430102,"errmsg":"unsafe"}')
        return None

    def check_feishu(self, path, headers, raw, payload):
        if not path.startswith("/open-apis/bot/v2/hook/"):
            return 200, {}, b'{"code":19001,"msg":"param invalid: incoming webhook access token invalid"}'
        if len(raw) > 20 * 1024:
            return self.reject("feishu: over 20 KB", 200, b'{"code":9499,"msg":"Bad Request"}')
        timestamp = payload.get("timestamp", "0")
        mac = hmac.new(f"{timestamp}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256).digest()
        if abs(int(timestamp) - time.time()) > 3600 or payload.get("sign") != base64.b64encode(mac).decode():
            return self.reject("feishu: sign", 200, b'{"code":19021,"msg":"sign match fail or timestamp is not '
                                                    b'within one hour from current time"}')
        if "msg_type" not in payload or ("content" not in payload and "card" not in payload):
            return self.reject("feishu: msg_type", 200, b'{"code":19002,"msg":"params error, msg_type need"}')
        if self.recent(1) >= 5 or self.recent(60) >= 100:
            return self.reject("feishu: rate", 200, b'{"code":11232,"msg":"frequency limited psm[lark.oapi]"}')
        text = json.dumps(payload.get("content"), ensure_ascii=False)
        hrefs = [node.get("href", "") for para in _post_paragraphs(payload) for node in para if node.get("tag") == "a"]
        if any(token in text for token in EVIL) or any("evil.example" in h for h in hrefs):
            return self.reject("feishu: forged link or mention", 200, b'{"code":9499,"msg":"Bad Request"}')
        return None

    def check_wecom(self, path, headers, raw, payload):
        if "key" not in parse_qs(urlsplit(path).query):
            return 200, {}, b'{"errcode":93000,"errmsg":"invalid webhook url"}'
        kind = payload.get("msgtype")
        if kind not in ("text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card"):
            return self.reject("wecom: msgtype", 200, b'{"errcode":40008,"errmsg":"invalid message type"}')
        content = payload.get(kind, {}).get("content", "")
        if len(content.encode()) > (2048 if kind == "text" else 4096):
            return self.reject("wecom: over 4096 bytes", 200,
                               b'{"errcode":40058,"errmsg":"markdown.content exceed max length 4096."}')
        if self.recent(60) >= 20:
            return self.reject("wecom: over 20/min", 200, b'{"errcode":45009,"errmsg":"api freq out of limit"}')
        if any(token in content for token in EVIL):
            return self.reject("wecom: forged link or mention", 200, b'{"errcode":40058,"errmsg":"invalid"}')
        return None

    def check_webhook(self, path, headers, raw, payload):
        message_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "0")
        key = base64.b64decode(WEBHOOK_SECRET.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, f"{message_id}.{timestamp}.".encode() + raw,
                                             hashlib.sha256).digest()).decode()
        signatures = [s.split(",", 1)[1] for s in headers.get("webhook-signature", "").split() if s.startswith("v1,")]
        if not message_id or abs(int(timestamp) - time.time()) > 300 or not any(
                hmac.compare_digest(s, expected) for s in signatures):
            return self.reject("webhook: signature", 401, b"bad signature")
        if not self._json_type(headers) or payload.get("schema") != "regwatch/1":
            return self.reject("webhook: body", 400, b"bad body")
        return None


def _post_paragraphs(payload: dict) -> list[list[dict]]:
    post = (payload.get("content") or {}).get("post") or {}
    return [para for locale in post.values() for para in locale.get("content", [])]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, body = receiver.handle(self.path, headers, raw)
            if receiver.delay:
                time.sleep(receiver.delay)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
