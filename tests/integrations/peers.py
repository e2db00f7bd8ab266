"""Real peers for exporter tests, all on 127.0.0.1: an HTTP server that records what it is sent and can
fail its first N requests, and an MQTT subscriber on the machine's Mosquitto broker."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import paho.mqtt.client as mqtt

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883


def free_port() -> int:
    """A port nothing listens on (yet): connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int  # what the peer answered

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class HttpPeer:
    """A threaded HTTP server that records every request and answers ``failure_status`` to the first
    ``fail_first`` of them, then ``status``. ``delay`` seconds of silence before answering simulate a
    slow peer; ``echo_headers`` puts the request headers in the answer (a peer that leaks them); ``answer``
    is the JSON document a success carries (``{"ok": true}`` by default)."""

    def __init__(
        self,
        *,
        fail_first: int = 0,
        failure_status: int = 503,
        status: int = 200,
        port: int = 0,
        delay: float = 0.0,
        echo_headers: bool = False,
        answer: Any = None,
    ) -> None:
        self.fail_first = fail_first
        self.failure_status = failure_status
        self.status = status
        self.delay = delay
        self.echo_headers = echo_headers
        self.answer = answer
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events/ingest"

    @property
    def accepted(self) -> list[Received]:
        """The requests answered with a 2xx: what the peer actually took."""
        return [r for r in self.requests if 200 <= r.status < 300]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with peer._lock:
                    failing = len(peer.requests) < peer.fail_first
                    status = peer.failure_status if failing else peer.status
                    peer.requests.append(Received("POST", self.path, headers, body, status))
                if peer.delay:
                    time.sleep(peer.delay)
                echoed = {"authorization": headers.get("authorization"), **headers}  # the secret first
                if peer.echo_headers:
                    document = echoed
                elif peer.answer is not None and 200 <= status < 300:
                    document = peer.answer
                else:
                    document = {"ok": 200 <= status < 300}
                answer = json.dumps(document).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class MqttSubscriber:
    """A subscriber on the local broker that keeps every message it gets on ``topic``."""

    def __init__(self, topic: str, qos: int = 2) -> None:
        self.topic = topic
        self.messages: list[mqtt.MQTTMessage] = []
        self._subscribed = threading.Event()
        self._client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=f"argus-test-sub-{uuid.uuid4().hex[:8]}"
        )
        self._client.on_connect = lambda client, *_: client.subscribe(topic, qos=qos)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = lambda _client, _userdata, message: self.messages.append(message)
        self._client.connect(MQTT_HOST, MQTT_PORT, keepalive=30)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            self.close()
            raise RuntimeError(f"could not subscribe to {topic} on {MQTT_HOST}:{MQTT_PORT}")

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[mqtt.MQTTMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
