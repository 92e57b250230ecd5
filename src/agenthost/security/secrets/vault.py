"""HashiCorp Vault KV v2 through ``hvac`` (the ``vault`` extra), with token or Kubernetes auth.

With Kubernetes auth the service account's token is exchanged for a Vault token at start-up,
and again whenever Vault refuses the current one (it expired).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Literal

from agenthost.security.secrets.providers import field_of
from agenthost.security.secrets.references import SecretError, SecretRef


def _import_hvac() -> Any:
    try:
        import hvac
    except ImportError:
        raise SecretError(
            "vault: secret references use Vault but hvac is not installed; install agenthost[vault]"
        ) from None
    return hvac


class _Refused(Exception):
    """Vault answered 403: the token is wrong or expired."""


class VaultProvider:
    def __init__(
        self,
        url: str,
        *,
        auth: Literal["token", "kubernetes"],
        token: str | None,
        kv_mount: str,
        kubernetes_role: str | None,
        kubernetes_mount: str,
        kubernetes_token_path: str,
        timeout_s: float,
    ) -> None:
        self._hvac = _import_hvac()
        self._auth = auth
        self._kv_mount = kv_mount
        self._role = kubernetes_role
        self._k8s_mount = kubernetes_mount
        self._jwt_path = Path(kubernetes_token_path)
        self._client = self._hvac.Client(url=url, token=token, timeout=timeout_s)
        self._lock = threading.Lock()  # refreshes run in worker threads
        self._logged_in = auth == "token"
        if auth == "token" and not token:
            raise SecretError("vault: vault_auth is 'token' but vault_token is not set")
        if auth == "kubernetes" and not kubernetes_role:
            raise SecretError(
                "vault: vault_auth is 'kubernetes' but vault_kubernetes_role is unset"
            )

    def fetch(self, ref: SecretRef) -> str:
        with self._lock:
            try:
                return field_of(ref, self._read(ref))
            except _Refused:
                if self._auth != "kubernetes":
                    raise SecretError(f"{ref}: Vault refused the token (403)") from None
            self._logged_in = False  # the Vault token expired: log in again, once
            try:
                return field_of(ref, self._read(ref))
            except _Refused:
                raise SecretError(f"{ref}: Vault refused access (403)") from None

    def _read(self, ref: SecretRef) -> object:
        hvac = self._hvac
        try:
            if not self._logged_in:
                self._login(ref)
            response = self._client.secrets.kv.v2.read_secret_version(
                path=ref.locator, mount_point=self._kv_mount, raise_on_deleted_version=True
            )
        except SecretError:
            raise
        except hvac.exceptions.Forbidden:
            raise _Refused from None
        except hvac.exceptions.InvalidPath:
            raise SecretError(
                f"{ref}: no such secret in Vault (mount {self._kv_mount!r})"
            ) from None
        except hvac.exceptions.VaultError as exc:
            raise SecretError(f"{ref}: Vault answered {type(exc).__name__}") from None
        except Exception as exc:  # requests' connection errors, timeouts, bad JSON
            raise SecretError(f"{ref}: Vault unreachable ({type(exc).__name__})") from None
        data = response.get("data", {}).get("data") if isinstance(response, dict) else None
        return data if data is not None else {}

    def _login(self, ref: SecretRef) -> None:
        try:
            jwt = self._jwt_path.read_text(encoding="utf-8").strip()
        except OSError:
            raise SecretError(
                f"{ref}: cannot read the Kubernetes service account token {self._jwt_path}"
            ) from None
        try:
            self._client.auth.kubernetes.login(
                role=self._role, jwt=jwt, mount_point=self._k8s_mount
            )
        except self._hvac.exceptions.VaultError as exc:
            raise SecretError(
                f"{ref}: Vault Kubernetes login as role {self._role!r} failed "
                f"({type(exc).__name__})"
            ) from None
        self._logged_in = True

    def close(self) -> None:
        adapter = getattr(self._client, "adapter", None)
        if adapter is not None:
            adapter.close()
