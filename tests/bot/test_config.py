"""Gateway settings: contract defaults, environment overrides, clear errors."""

from __future__ import annotations

import pytest

from bot.config import ENV_FIELDS, Settings, SettingsError, derive_health_url


def test_defaults_match_the_contract() -> None:
    s = Settings.from_env({})
    assert (s.host, s.port) == ("127.0.0.1", 8080)
    assert s.rasa_url == "http://127.0.0.1:5005"
    assert s.rasa_token is None
    assert s.action_server_url == "http://127.0.0.1:5055/webhook"
    assert s.action_server_health == "http://127.0.0.1:5055/health"
    assert s.redis_url == "redis://127.0.0.1:6390/0"
    assert (s.chat_max_chars, s.chat_timeout_seconds, s.sender_max_chars) == (4000, 30, 128)
    assert s.max_body_bytes == 64 * 1024


def test_environment_overrides_and_empty_means_unset() -> None:
    s = Settings.from_env(
        {
            "GATEWAY_PORT": "9000",
            "RASA_URL": "http://rasa:1234/",
            "RASA_TOKEN": "secret",
            "ACTION_SERVER_URL": "http://actions:6000/webhook",
            "CHAT_MAX_CHARS": "200",
            "CHAT_TIMEOUT_SECONDS": "2.5",
            "GATEWAY_HOST": "",
        }
    )
    assert s.port == 9000 and s.host == "127.0.0.1"
    assert s.rasa_webhook_url == "http://rasa:1234/webhooks/rest/webhook"
    assert s.action_server_health == "http://actions:6000/health"
    assert (s.chat_max_chars, s.chat_timeout_seconds) == (200, 2.5)
    assert "secret" not in repr(s)


def test_explicit_action_server_health_url_wins() -> None:
    s = Settings.from_env({"ACTION_SERVER_HEALTH_URL": "http://x:1/ping"})
    assert s.action_server_health == "http://x:1/ping"


@pytest.mark.parametrize(
    ("webhook", "health"),
    [
        ("http://h:5055/webhook", "http://h:5055/health"),
        ("http://h:5055/webhook/", "http://h:5055/health"),
        ("http://h:5055", "http://h:5055/health"),
        ("http://h/prefix/webhook", "http://h/prefix/health"),
    ],
)
def test_health_url_is_derived_from_the_webhook(webhook: str, health: str) -> None:
    assert derive_health_url(webhook) == health


def test_bad_values_name_the_variable() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"GATEWAY_PORT": "eighty", "CHAT_MAX_CHARS": "0"})
    assert "GATEWAY_PORT" in str(info.value) and "CHAT_MAX_CHARS" in str(info.value)


def test_every_field_has_an_environment_variable() -> None:
    assert set(ENV_FIELDS.values()) == set(Settings.model_fields)
