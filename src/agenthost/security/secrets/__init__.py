"""Secrets referenced by settings: ``env:``, ``file:``, ``vault:`` and ``aws:`` (see
:mod:`.references`), resolved at start-up and refreshed in the background by :class:`SecretStore`.
"""

from __future__ import annotations

from agenthost.security.secrets.providers import EnvProvider, FileProvider, SecretProvider
from agenthost.security.secrets.references import SecretError, SecretRef, parse_reference
from agenthost.security.secrets.store import SecretStore, secret_settings
from agenthost.settings import ConfigError, Settings, process_environment

__all__ = ["SecretError", "SecretRef", "SecretStore", "build_secret_store", "parse_reference"]

# Settings that configure the providers themselves rather than name a secret to keep fresh.
PROVIDER_SETTINGS = frozenset({"vault_token"})


def build_secret_store(settings: Settings) -> SecretStore:
    """The store with the providers ``settings`` configure, every reference resolved;
    ConfigError (naming the setting and reference) when one cannot be."""
    basic: dict[str, SecretProvider] = {
        "env": EnvProvider(process_environment()),
        "file": FileProvider(),
    }
    bootstrap = SecretStore(basic, settings.secrets_refresh_s)
    bootstrap.load([("vault_token", settings.vault_token)] if settings.vault_token else [])
    references = [
        (path, secret)
        for path, secret in secret_settings(settings)
        if path not in PROVIDER_SETTINGS
    ]
    schemes = {ref.scheme for _, s in references if (ref := _reference(s.get_secret_value()))}
    try:
        providers = basic | _remote_providers(settings, bootstrap, schemes)
    except SecretError as exc:
        raise ConfigError(str(exc)) from None
    store = SecretStore(providers, settings.secrets_refresh_s)
    try:
        store.load(references)
    except ConfigError:
        store.close()
        raise
    return store


def _reference(value: str) -> SecretRef | None:
    try:
        return parse_reference(value)
    except SecretError:
        return None  # reported, with the setting's name, by SecretStore.load


def _remote_providers(
    settings: Settings, bootstrap: SecretStore, schemes: set[str]
) -> dict[str, SecretProvider]:
    providers: dict[str, SecretProvider] = {}
    if settings.vault_url is not None:
        from agenthost.security.secrets.vault import VaultProvider

        providers["vault"] = VaultProvider(
            settings.vault_url,
            auth=settings.vault_auth,
            token=bootstrap.reveal(settings.vault_token),
            kv_mount=settings.vault_kv_mount,
            kubernetes_role=settings.vault_kubernetes_role,
            kubernetes_mount=settings.vault_kubernetes_mount,
            kubernetes_token_path=settings.vault_kubernetes_token_path,
            timeout_s=settings.secrets_timeout_s,
        )
    elif "vault" in schemes:
        raise SecretError("vault: secret references use Vault but vault_url is not set")
    if "aws" in schemes or settings.aws_region or settings.aws_endpoint_url:
        from agenthost.security.secrets.aws import AwsProvider

        providers["aws"] = AwsProvider(
            region=settings.aws_region,
            endpoint_url=settings.aws_endpoint_url,
            timeout_s=settings.secrets_timeout_s,
        )
    return providers
