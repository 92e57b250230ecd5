from pathlib import Path

import pytest

from agenthost.settings import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("AGENTHOST_") or name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_use_the_demo_model_without_a_key() -> None:
    settings = load_settings()
    assert settings.uses_demo_model
    assert settings.port == 8000


def test_environment_and_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHOST_PORT", "9100")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    settings = load_settings()
    assert settings.port == 9100
    assert not settings.uses_demo_model
    assert "sk-test-123" not in repr(settings)


def test_toml_file_with_deployments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "agenthost.toml").write_text(
        'run_timeout_s = 5\n[[deployments]]\nname = "local"\nmodel = "llama"\n'
        'base_url = "http://127.0.0.1:9/v1"\n'
    )
    settings = load_settings()
    assert settings.run_timeout_s == 5
    assert settings.deployments[0].served_names == ["llama"]
    monkeypatch.setenv("AGENTHOST_RUN_TIMEOUT_S", "7")  # env beats the file
    assert load_settings().run_timeout_s == 7


def test_invalid_values_name_the_key_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHOST_PORT", "not-a-port")
    monkeypatch.setenv("AGENTHOST_DEPLOYMENTS", '[{"name": "a", "model": "m", "api": "soap"}]')
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "AGENTHOST_PORT" in message
    assert "AGENTHOST_DEPLOYMENTS[0].api" in message
    assert "not-a-port" not in message


def test_unknown_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHOST_RUN_TIMEOUT", "5")  # typo of RUN_TIMEOUT_S
    with pytest.raises(ConfigError, match="AGENTHOST_RUN_TIMEOUT"):
        load_settings()


def test_missing_explicit_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHOST_CONFIG_FILE", "/nonexistent/agenthost.toml")
    with pytest.raises(ConfigError, match="no such file"):
        load_settings()


def test_duplicate_deployment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AGENTHOST_DEPLOYMENTS", '[{"name": "a", "model": "m"}, {"name": "a", "model": "n"}]'
    )
    with pytest.raises(ConfigError, match="repeated"):
        load_settings()


def test_unparsable_sources_are_config_errors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AGENTHOST_DEPLOYMENTS", '[{"name": "x"')
    with pytest.raises(ConfigError, match='field "deployments"'):
        load_settings()
    monkeypatch.delenv("AGENTHOST_DEPLOYMENTS")
    (tmp_path / "agenthost.toml").write_text("port = \n")
    with pytest.raises(ConfigError, match=r"agenthost\.toml"):
        load_settings()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"AGENTHOST_DEV_MODE": "true", "AGENTHOST_ENVIRONMENT": "production"}, "production"),
        ({"AGENTHOST_DEV_MODE": "true", "AGENTHOST_HOST": "0.0.0.0"}, "loopback"),
    ],
)
def test_dev_mode_is_refused_where_others_could_reach_it(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], message: str
) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings()
    assert "Value error" not in str(info.value)


def test_a_deployment_client_defaults_to_lean_for_chat_completions_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "AGENTHOST_DEPLOYMENTS",
        '[{"name": "a", "model": "m"}, {"name": "b", "model": "m", "api": "responses"},'
        ' {"name": "c", "model": "m", "client": "openai"}]',
    )
    chat, responses, chosen = load_settings().deployments
    assert (chat.lean_client, responses.lean_client, chosen.lean_client) == (True, False, False)


def test_the_lean_client_with_the_responses_api_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AGENTHOST_DEPLOYMENTS",
        '[{"name": "a", "model": "m", "api": "responses", "client": "lean"}]',
    )
    with pytest.raises(ConfigError, match='client "lean" speaks only api "chat_completions"'):
        load_settings()
