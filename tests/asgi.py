"""ASGI scopes for tests that call the web process's application directly, as daphne would."""

from __future__ import annotations


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict:
    """The scope of an HTTP/1.1 request from loopback to ``testserver``; ``path`` may carry a query string."""
    path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers if headers is not None else [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
