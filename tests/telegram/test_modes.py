"""Webhook mode (the secret-token header), and the channel switched off without a token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import new_chat, running
from standin import StandIn, free_port

from bot import messages
from bot.config import Settings
from bot.telegram.wiring import problems

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret_Token-for-the-webhook"


@pytest.mark.e2e
async def test_webhook_mode_refuses_a_missing_or_wrong_secret_and_accepts_the_right_one(
    standin: StandIn, channel_settings: Settings
):
    port = free_port()
    settings = channel_settings.model_copy(update={
        "telegram_mode": "webhook",
        "telegram_secret": SECRET,
        "telegram_webhook_url": "https://yjs.example.gov.cn/tg/hook",
        "telegram_listen_port": port,
    })
    async with running(settings):
        assert standin.state.webhook.get("url") == "https://yjs.example.gov.cn/tg/hook"
        assert standin.state.webhook.get("secret_token") == SECRET
        assert not standin.calls_of("getUpdates")
        chat = new_chat()
        url = f"http://127.0.0.1:{port}/tg/hook"
        async with httpx.AsyncClient(timeout=10) as client:
            missing = await client.post(url, json=standin.text_update(chat, "/help"))
            wrong = await client.post(url, json=standin.text_update(chat, "/help"),
                                      headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            assert (missing.status_code, wrong.status_code) == (403, 403)
            right = await client.post(url, json=standin.text_update(chat, "/help"),
                                      headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            assert right.status_code == 200
        [sent] = await standin.wait_sent(chat)
        assert sent.text == messages.TG_HELP  # only the accepted update was answered


def test_webhook_mode_needs_a_secret_and_a_url():
    found = problems(Settings(telegram_token="1:x", telegram_mode="webhook"))
    assert any("TELEGRAM_SECRET" in p for p in found) and any("TELEGRAM_WEBHOOK_URL" in p for p in found)
    assert problems(Settings(telegram_token="1:x")) == []
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    done = subprocess.run([sys.executable, "-m", "bot.telegram"], cwd=ROOT, capture_output=True, text=True,
                          env={**env, "TELEGRAM_TOKEN": "1:x", "TELEGRAM_MODE": "webhook"}, timeout=60)
    assert done.returncode == 2 and "TELEGRAM_SECRET" in done.stderr


def test_without_a_token_the_channel_is_off_with_one_log_line():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    done = subprocess.run([sys.executable, "-m", "bot.telegram"], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "telegram channel off" in lines[0], lines


def test_the_supervisor_starts_the_channel_only_with_a_token(monkeypatch, tmp_path):
    stack = sys.modules["stack"]
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    assert "telegram" not in [name for name, _, _ in stack.Stack(stack.StackConfig.from_env())._commands()]
    monkeypatch.setenv("TELEGRAM_TOKEN", "1:x")
    config = stack.StackConfig.from_env()
    commands = {name: cmd for name, cmd, _ in stack.Stack(config)._commands()}
    assert commands["telegram"][-2:] == ["-m", "bot.telegram"]
    assert "1:x" not in " ".join(commands["telegram"])  # the token only in the environment
    # Private test stacks never start it, whatever the environment says.
    assert not stack.StackConfig.on_free_ports(tmp_path).telegram
