"""Fixtures for security tests: a fake Vault, AWS Secrets Manager under moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.fake_vault import VaultState, fake_vault
from tests.telemetry.conftest import log_stream, restore_logging

__all__ = ["log_stream", "restore_logging"]

VAULT_TOKEN = "vault-root-token-for-tests"


@pytest.fixture
def vault() -> Iterator[tuple[str, VaultState]]:
    """A fake Vault on loopback that accepts ``VAULT_TOKEN``."""
    state = VaultState(tokens={VAULT_TOKEN})
    with fake_vault(state) as url:
        yield url, state


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """AWS Secrets Manager mocked in-process by moto (no traffic leaves the process)."""
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        import boto3

        yield boto3.client("secretsmanager", region_name="eu-west-1")
