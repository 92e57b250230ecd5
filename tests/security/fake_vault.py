"""A tiny Vault on loopback speaking what agenthost uses: KV v2 reads and Kubernetes login."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class VaultState:
    mount: str = "secret"
    tokens: set[str] = field(default_factory=set)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    """path → KV data."""
    kubernetes_roles: dict[str, str] = field(default_factory=dict)
    """role → the service account JWT it accepts."""
    logins: int = 0
    reads: int = 0


def _handler(state: VaultState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            prefix = f"/v1/{state.mount}/data/"
            if not self.path.startswith(prefix):
                self._reply(404, {"errors": []})
                return
            if self.headers.get("X-Vault-Token") not in state.tokens:
                self._reply(403, {"errors": ["permission denied"]})
                return
            state.reads += 1
            data = state.secrets.get(self.path[len(prefix) :])
            if data is None:
                self._reply(404, {"errors": []})
                return
            self._reply(200, {"data": {"data": data, "metadata": {"version": 1}}})

        def do_POST(self) -> None:
            if self.path != "/v1/auth/kubernetes/login":
                self._reply(404, {"errors": []})
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if state.kubernetes_roles.get(body.get("role")) != body.get("jwt"):
                self._reply(403, {"errors": ["permission denied"]})
                return
            state.logins += 1
            token = f"k8s-token-{state.logins}"
            state.tokens.add(token)
            self._reply(200, {"auth": {"client_token": token, "lease_duration": 60}})

    return Handler


@contextmanager
def fake_vault(state: VaultState) -> Iterator[str]:
    """Serve ``state`` on a free loopback port; yields the Vault address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
