"""Secret references: parsing, every provider, start-up failures, refresh and rotation."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agenthost.security.secrets import SecretError, SecretRef, build_secret_store, parse_reference
from agenthost.settings import ConfigError, Settings
from tests.security.conftest import VAULT_TOKEN
from tests.security.fake_vault import VaultState

PLANTED = "planted-Secret-value-7f3a9c"


def test_references_parse_and_literals_pass_through() -> None:
    assert parse_reference("env:OPENAI_KEY") == SecretRef("env", "OPENAI_KEY")
    assert parse_reference("file:/run/secrets/k") == SecretRef("file", "/run/secrets/k")
    assert parse_reference("vault:apps/agent#api_key") == SecretRef(
        "vault", "apps/agent", "api_key"
    )
    assert parse_reference("aws:arn:aws:sm:eu:1:secret:x") == SecretRef(
        "aws", "arn:aws:sm:eu:1:secret:x"
    )
    assert parse_reference("aws:prod/llm#key") == SecretRef("aws", "prod/llm", "key")
    for literal in ("sk-abc", "postgresql://u:p@h/db", "sqlite:///x.db", "https://x"):
        assert parse_reference(literal) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("env:", "names nothing"),
        ("vault:apps/agent", "needs '#key'"),
        ("aws:x#", "empty key"),
        ("env:A#b", "takes no '#key'"),
    ],
)
def test_malformed_references_are_refused(value: str, message: str) -> None:
    with pytest.raises(SecretError, match=message):
        parse_reference(value)


def test_env_and_file_references_resolve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MY_REDIS_URL", "redis://127.0.0.1:6379/13")
    (tmp_path / "db-password").write_text(PLANTED + "\n")
    settings = Settings(
        redis_url="env:MY_REDIS_URL", database_password=f"file:{tmp_path / 'db-password'}"
    )
    store = build_secret_store(settings)
    assert store.reveal(settings.redis_url) == "redis://127.0.0.1:6379/13"
    assert store.reveal(settings.database_password) == PLANTED
    assert store.reveal(SecretStr("literal")) == "literal"


async def test_a_rotated_file_secret_is_picked_up_by_refresh(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("first")
    settings = Settings(openai_api_key=f"file:{path}")
    store = build_secret_store(settings)
    assert store.reveal(settings.openai_api_key) == "first"
    path.write_text("second")
    await store.refresh()
    assert store.reveal(settings.openai_api_key) == "second"
    path.unlink()  # a failed refresh keeps the last good value
    await store.refresh()
    assert store.reveal(settings.openai_api_key) == "second"


def _config_error(**values: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        build_secret_store(Settings(**values))
    return str(caught.value)


def test_missing_secrets_fail_startup_naming_setting_and_reference(tmp_path: Path) -> None:
    message = _config_error(openai_api_key="env:AGENTHOST_TEST_NOT_SET")
    assert "openai_api_key" in message and "env:AGENTHOST_TEST_NOT_SET" in message
    message = _config_error(
        deployments=[{"name": "a", "model": "m", "api_key": f"file:{tmp_path / 'none'}"}]
    )
    assert "deployments.0.api_key" in message and "cannot read" in message
    assert "vault_url is not set" in _config_error(openai_api_key="vault:x#y")
    assert "needs '#key'" in _config_error(openai_api_key="vault:x")


def test_vault_token_auth_reads_kv_v2(vault: tuple[str, VaultState]) -> None:
    url, state = vault
    state.secrets["apps/agent"] = {"api_key": PLANTED}
    settings = Settings(
        vault_url=url, vault_token=VAULT_TOKEN, openai_api_key="vault:apps/agent#api_key"
    )
    store = build_secret_store(settings)
    assert store.reveal(settings.openai_api_key) == PLANTED


def test_vault_failures_name_the_secret_never_a_value(vault: tuple[str, VaultState]) -> None:
    url, state = vault
    state.secrets["apps/agent"] = {"api_key": PLANTED}
    base = {"vault_url": url, "vault_token": VAULT_TOKEN}
    message = _config_error(**base, openai_api_key="vault:apps/other#api_key")
    assert "vault:apps/other#api_key" in message and "no such secret" in message
    message = _config_error(**base, openai_api_key="vault:apps/agent#other")
    assert "no non-empty string field 'other'" in message
    message = _config_error(
        **{**base, "vault_token": "wrong"}, openai_api_key="vault:apps/agent#api_key"
    )
    assert "refused" in message
    unreachable = "http://127.0.0.1:9"
    message = _config_error(
        vault_url=unreachable, vault_token=VAULT_TOKEN, openai_api_key="vault:apps/agent#api_key"
    )
    assert "Vault unreachable" in message
    assert PLANTED not in message and VAULT_TOKEN not in message


async def test_vault_kubernetes_auth_logs_in_again_when_the_token_expires(
    vault: tuple[str, VaultState], tmp_path: Path
) -> None:
    url, state = vault
    jwt = tmp_path / "token"
    jwt.write_text("service-account-jwt")
    state.kubernetes_roles["agenthost"] = "service-account-jwt"
    state.secrets["apps/agent"] = {"api_key": "v1"}
    settings = Settings(
        vault_url=url,
        vault_auth="kubernetes",
        vault_kubernetes_role="agenthost",
        vault_kubernetes_token_path=str(jwt),
        openai_api_key="vault:apps/agent#api_key",
    )
    store = build_secret_store(settings)
    assert store.reveal(settings.openai_api_key) == "v1" and state.logins == 1
    state.tokens.clear()  # every Vault token expired
    state.secrets["apps/agent"] = {"api_key": "v2"}
    await store.refresh()
    assert store.reveal(settings.openai_api_key) == "v2" and state.logins == 2


def test_vault_without_its_extra_fails_startup_clearly(
    vault: tuple[str, VaultState], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "hvac", None)  # as if not installed
    message = _config_error(vault_url=vault[0], vault_token=VAULT_TOKEN)
    assert "install agenthost[vault]" in message


def test_aws_without_its_extra_fails_startup_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    assert "install agenthost[aws]" in _config_error(openai_api_key="aws:prod/llm")


async def test_aws_secrets_manager_plain_and_json_secrets(aws: Any) -> None:
    aws.create_secret(Name="prod/llm", SecretString=json.dumps({"key": PLANTED}))
    aws.create_secret(Name="prod/redis", SecretString="redis://127.0.0.1:6379/13")
    settings = Settings(
        aws_region="eu-west-1", openai_api_key="aws:prod/llm#key", redis_url="aws:prod/redis"
    )
    store = build_secret_store(settings)
    assert store.reveal(settings.openai_api_key) == PLANTED
    assert store.reveal(settings.redis_url) == "redis://127.0.0.1:6379/13"
    aws.put_secret_value(SecretId="prod/llm", SecretString=json.dumps({"key": "rotated"}))
    await store.refresh()
    assert store.reveal(settings.openai_api_key) == "rotated"


def test_aws_missing_secret_fails_startup_naming_it(aws: Any) -> None:
    message = _config_error(aws_region="eu-west-1", openai_api_key="aws:prod/none")
    assert "aws:prod/none" in message and "ResourceNotFoundException" in message
