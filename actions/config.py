"""Settings for the action server, read from the environment with documented defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ActionSettings:
    # Government service hotline (complaints and general questions).
    hotline: str = "0739-12345"
    # The county centre with the "高效办成一件事" service area.
    centre_name: str = "县政务服务中心“高效办成一件事”专区"
    centre_address: str = "邵阳县红石科技园24栋"
    centre_hours: str = "工作日 9:00–12:00，13:30–17:00"
    # At most this many candidates are offered when the match is ambiguous.
    max_candidates: int = 3
    # Long official notes are cut to keep each line short.
    max_condition_chars: int = 40
    max_material_chars: int = 60
    # Redis holding the handoff tickets (same server and variable as the gateway; keys ``yjs:handoff:*``).
    redis_url: str = "redis://127.0.0.1:6390/0"
    # Staff hours told to a person whose conversation was handed to staff.
    staff_hours: str = "法定工作日 09:00-12:00，13:30-17:00"
    # Fair use: one conversation writes at most this many of each kind (ratings, cases, handoff
    # tickets) per window; more are refused kindly (actions/write_limits.py).
    write_limit: int = 5
    write_window_seconds: int = 3600


def load_settings() -> ActionSettings:
    """Build the settings; every field can be overridden by an ``ACTIONS_*`` env var."""
    defaults = ActionSettings()
    return ActionSettings(
        hotline=os.environ.get("ACTIONS_HOTLINE", defaults.hotline),
        centre_name=os.environ.get("ACTIONS_CENTRE_NAME", defaults.centre_name),
        centre_address=os.environ.get("ACTIONS_CENTRE_ADDRESS", defaults.centre_address),
        centre_hours=os.environ.get("ACTIONS_CENTRE_HOURS", defaults.centre_hours),
        max_candidates=int(os.environ.get("ACTIONS_MAX_CANDIDATES", defaults.max_candidates)),
        max_condition_chars=int(os.environ.get("ACTIONS_MAX_CONDITION_CHARS", defaults.max_condition_chars)),
        max_material_chars=int(os.environ.get("ACTIONS_MAX_MATERIAL_CHARS", defaults.max_material_chars)),
        redis_url=os.environ.get("REDIS_URL") or defaults.redis_url,
        staff_hours=os.environ.get("ACTIONS_STAFF_HOURS", defaults.staff_hours),
        write_limit=int(os.environ.get("ACTIONS_WRITE_LIMIT", defaults.write_limit)),
        write_window_seconds=int(os.environ.get("ACTIONS_WRITE_WINDOW_SECONDS", defaults.write_window_seconds)),
    )


SETTINGS = load_settings()
