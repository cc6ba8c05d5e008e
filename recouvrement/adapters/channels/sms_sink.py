"""A local SMS provider on loopback that speaks Brevo's API and keeps what it receives.

The demo starts it as it starts its SMTP sink (`RECOUVREMENT_SMS_PROVIDER=brevo`,
`RECOUVREMENT_SMS_URL` pointing here): each SMS is written as one JSON file
to its folder. Tests script its answers (`answer_next`): a 400 (refused for
good), a 500 (try later), a pause longer than the client's timeout.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PATH = "/v3/transactionalSMS/send"


class SmsSink:
    def __init__(self, folder: Path | None = None, host: str = "127.0.0.1", port: int = 0,
                 api_key: str | None = None):
        self.folder, self.api_key = folder, api_key
        self.received: list[dict[str, Any]] = []
        self.requests = 0
        self._script: deque[tuple[int, float]] = deque()
        self._ids = itertools.count(1000001)
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, body_out = sink._answer(self.path, self.headers, body)
                data = json.dumps(body_out).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer_next(self, status: int, *, delay: float = 0.0, count: int = 1) -> None:
        """The next `count` requests get `status` (after `delay` seconds)."""
        with self._lock:
            self._script.extend([(status, delay)] * count)

    def _answer(self, path: str, headers, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            status, delay = self._script.popleft() if self._script else (201, 0.0)
        if delay:
            time.sleep(delay)
        if path != PATH:
            return 404, {"code": "not_found", "message": f"no such endpoint {path}"}
        if self.api_key is not None and headers.get("api-key") != self.api_key:
            return 401, {"code": "unauthorized", "message": "Key not found"}
        if status >= 300:
            return status, {"code": "scripted", "message": f"scripted answer {status}"}
        try:
            sms = json.loads(body)
        except ValueError:
            return 400, {"code": "invalid_parameter", "message": "body is not JSON"}
        missing = [k for k in ("sender", "recipient", "content") if not sms.get(k)]
        if missing:
            return 400, {"code": "missing_parameter", "message": f"missing {missing}"}
        message_id = next(self._ids)
        kept = {**sms, "messageId": message_id,
                "received_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        with self._lock:
            self.received.append(kept)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"{message_id}.json").write_text(
                json.dumps(kept, ensure_ascii=False, indent=1), encoding="utf-8")
        return 201, {"messageId": message_id}

    def __enter__(self) -> "SmsSink":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
