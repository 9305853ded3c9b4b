"""Secrets on the real stack: the action server refuses forged calls, no token on a command line."""

from __future__ import annotations

import sys

import httpx
import pytest

pytestmark = pytest.mark.e2e
stack_module = sys.modules["stack"]  # loaded by tests/conftest.py

ACTION_CALL = {"next_action": "action_find_thing", "sender_id": "forger", "tracker": {"sender_id": "forger"},
               "domain": {}, "version": "3.6.21"}


def test_a_forged_action_call_is_refused(stack):
    url = f"{stack.config.action_url}/webhook"
    no_secret = httpx.post(url, json=ACTION_CALL, timeout=10)
    assert no_secret.status_code == 401, no_secret.text
    assert "error" in no_secret.json()
    wrong = httpx.post(url, json=ACTION_CALL, headers={"Authorization": "Bearer not-the-secret"}, timeout=10)
    assert wrong.status_code == 403, wrong.text
    in_query = httpx.post(url, params={"token": stack.config.action_token}, json=ACTION_CALL, timeout=10)
    assert in_query.status_code == 401
    listing = httpx.get(f"{stack.config.action_url}/actions", timeout=10)
    assert listing.status_code == 401
    assert httpx.get(f"{stack.config.action_url}/health", timeout=10).status_code == 200


def test_the_real_secret_is_accepted(stack):
    listing = httpx.get(f"{stack.config.action_url}/actions", timeout=10,
                        headers={"Authorization": f"Bearer {stack.config.action_token}"})
    assert listing.status_code == 200
    assert any(a.get("name") == "action_find_thing" for a in listing.json())


def test_no_secret_on_any_service_command_line(stack):
    secrets = [stack.config.rasa_token, stack.config.action_token]
    seen = 0
    for service in stack.services:
        for pid in stack_module.group_pids(service.proc.pid):
            line = stack_module.cmdline(pid)
            seen += 1
            assert not any(s in line for s in secrets), f"{service.name} pid {pid} shows a secret: {line[:200]}"
    assert seen >= len(stack.services)
