"""Gateway settings, read from the environment.

Every variable, with its default (documented again in ``docs/gateway.md``):

==========================  ==================================  =============================================
Variable                    Default                             Meaning
==========================  ==================================  =============================================
GATEWAY_HOST                127.0.0.1                           address uvicorn binds
GATEWAY_PORT                8080                                port uvicorn binds
GATEWAY_LOG_LEVEL           info                                uvicorn / gateway log level
RASA_URL                    http://127.0.0.1:5005               Rasa server base URL (REST channel + HTTP API)
RASA_TOKEN                  (unset)                             Rasa ``--auth-token``; when set, health uses
                                                                ``GET /status?token=`` (model loaded?),
                                                                otherwise ``GET /``
ACTION_SERVER_URL           http://127.0.0.1:5055/webhook       action server webhook (as in endpoints.yml)
ACTION_SERVER_HEALTH_URL    derived: ACTION_SERVER_URL with     action server health endpoint
                            its last path segment -> /health
REDIS_URL                   redis://127.0.0.1:6390/0            Redis used by the gateway (app keys: ``yjs:``)
CHAT_MAX_CHARS              4000                                longest accepted user message / things query
CHAT_TIMEOUT_SECONDS        30                                  total time allowed for one Rasa reply
SENDER_MAX_CHARS            128                                 longest accepted ``sender`` id
GATEWAY_MAX_BODY_BYTES      65536                               raw request body cap, checked before parsing
HEALTH_TIMEOUT_SECONDS      2                                   per-service timeout of ``/healthz`` checks
KNOWLEDGE_PRELOAD           1                                   1: load knowledge.service in a background
                                                                thread at startup; 0: on first use
HANDOFF_WAIT_SECONDS        600                                 a handoff ticket no staff member picked up
                                                                for this long: the assistant comes back
                                                                (see docs/handoff.md)
HANDOFF_LIVE                1                                   1: each gateway process follows the handoff
                                                                events (hand-back after a close, queue places)
                                                                and requeues abandoned claims; 0: off
STAFF_REQUEUE_INTERVAL      15                                  seconds between two checks for claims whose
                                                                staff member went silent (STAFF_ABANDON_SECONDS)
INBOX_RATE_PER_CONVERSATION 60/minute;1000/hour                 inbox reads one conversation may make
                                                                (``GET /api/chat/{sender}/inbox``); more: 429
INBOX_MAX_WAITING           200                                 inbox long-polls one process holds at once;
                                                                more are answered at once (as ``wait=0``)
CHAT_RATE_PER_CONVERSATION  20/minute;200/hour                  messages one conversation may send (``limits``
                                                                notation, ``;`` between windows); more: 429
CHAT_RATE_PER_CLIENT        120/minute;2000/hour                messages one client address may send (from
                                                                X-Forwarded-For of a trusted proxy); more: 429
RATE_LIMIT_EXEMPT_CLIENTS   127.0.0.1,::1                       client addresses without the per-client limit
                                                                (a local proxy that sends no X-Forwarded-For,
                                                                local tools); the per-conversation limit stays;
                                                                ``none``: nobody
CHAT_TURN_WAIT_SECONDS      10                                  longest a message waits for the previous one of
                                                                its conversation to be answered; then 429
CHAT_TURN_QUEUE             1                                   messages of one conversation that may wait
                                                                behind the one in flight; more: 429 at once
RASA_MAX_CONCURRENCY        16                                  messages in flight to Rasa at once (all
                                                                conversations); the rest wait their turn
BUTTON_PAYLOADS_TTL_SECONDS 86400                               how long a button the assistant offered can be
                                                                pressed (typed ``/...`` text otherwise)
BUTTON_PAYLOADS_MAX         64                                  offered payloads remembered per conversation
GATEWAY_OPENAPI             0                                   1: serve ``/openapi.json`` (never /docs, /redoc)
GATEWAY_TRUSTED_PROXIES     127.0.0.1                           addresses whose X-Forwarded-For is believed
                                                                (uvicorn ``forwarded_allow_ips``)
GATEWAY_MAX_CONNECTIONS     1000                                open connections; more are answered 503 and
                                                                closed at once
GATEWAY_HEADER_TIMEOUT      10                                  seconds a client has to send a request's
                                                                headers (from its first byte / connecting)
GATEWAY_BODY_TIMEOUT        15                                  seconds a client has to send a request's body
GATEWAY_KEEP_ALIVE          5                                   seconds an idle keep-alive connection is kept
STAFF_SESSION_HOURS         12                                  a staff console login lasts this long (hours;
                                                                the session cookie's Max-Age)
STAFF_COOKIE_SECURE         0                                   1: the console is served over HTTPS, the session
                                                                cookie gets ``Secure``
STAFF_ABANDON_SECONDS       90                                  a claimed ticket whose staff member sent no
                                                                heartbeat for this long goes back to the queue
STAFF_CANNED_FILE           bot/staff/canned_replies.yml        the console's canned replies (YAML)
CHECKLIST_LINK_DAYS         7                                   a checklist link (``/c/<token>``, its QR code)
                                                                works this many days, then shows nothing
PUBLIC_BASE_URL             (unset)                             the address phones open, e.g.
                                                                ``https://yjs.example.gov.cn``; unset: the
                                                                request's own base URL (docs/kiosk.md)
KIOSK_IDLE_SECONDS          120                                 kiosk page: untouched this long -> countdown
KIOSK_COUNTDOWN_SECONDS     20                                  kiosk page: countdown before the wipe
KIOSK_SITUATIONS_FILE       bot/kiosk/situations.yml            the kiosk's start-screen buttons
TELEGRAM_TOKEN              (unset)                             the Telegram bot's token; unset: the Telegram
                                                                channel is off (docs/telegram.md)
TELEGRAM_MODE               polling                             polling | webhook
TELEGRAM_WEBHOOK_URL        (unset)                             the public HTTPS URL Telegram posts updates to
                                                                (webhook mode; required there)
TELEGRAM_SECRET             (unset)                             the secret-token header Telegram must send
                                                                (webhook mode; required there)
TELEGRAM_API_BASE           https://api.telegram.org/bot        the Bot API base URL (the token is appended)
TELEGRAM_LISTEN_HOST        127.0.0.1                           webhook mode: address the webhook server binds
TELEGRAM_LISTEN_PORT        8443                                webhook mode: port the webhook server binds
TELEGRAM_FONT               (unset)                             a CJK font file for the checklist PDF; unset:
                                                                WenQuanYi Micro Hei, else ``fc-match``
==========================  ==================================  =============================================

Empty values count as unset. Bad values (e.g. ``GATEWAY_PORT=abc``) fail at startup with a clear error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

from limits import parse_many
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.conversation import is_conversation_id

# Environment variable -> Settings field name.
ENV_FIELDS: dict[str, str] = {
    "GATEWAY_HOST": "host",
    "GATEWAY_PORT": "port",
    "GATEWAY_LOG_LEVEL": "log_level",
    "RASA_URL": "rasa_url",
    "RASA_TOKEN": "rasa_token",
    "ACTION_SERVER_URL": "action_server_url",
    "ACTION_SERVER_HEALTH_URL": "action_server_health_url",
    "REDIS_URL": "redis_url",
    "CHAT_MAX_CHARS": "chat_max_chars",
    "CHAT_TIMEOUT_SECONDS": "chat_timeout_seconds",
    "SENDER_MAX_CHARS": "sender_max_chars",
    "GATEWAY_MAX_BODY_BYTES": "max_body_bytes",
    "HEALTH_TIMEOUT_SECONDS": "health_timeout_seconds",
    "KNOWLEDGE_PRELOAD": "knowledge_preload",
    "HANDOFF_WAIT_SECONDS": "handoff_wait_seconds",
    "HANDOFF_LIVE": "handoff_live",
    "STAFF_REQUEUE_INTERVAL": "staff_requeue_interval_seconds",
    "INBOX_RATE_PER_CONVERSATION": "inbox_rate_per_conversation",
    "INBOX_MAX_WAITING": "inbox_max_waiting",
    "CHAT_RATE_PER_CONVERSATION": "chat_rate_per_conversation",
    "CHAT_RATE_PER_CLIENT": "chat_rate_per_client",
    "RATE_LIMIT_EXEMPT_CLIENTS": "rate_limit_exempt_clients",
    "CHAT_TURN_WAIT_SECONDS": "chat_turn_wait_seconds",
    "CHAT_TURN_QUEUE": "chat_turn_queue",
    "RASA_MAX_CONCURRENCY": "rasa_max_concurrency",
    "BUTTON_PAYLOADS_TTL_SECONDS": "button_payloads_ttl_seconds",
    "BUTTON_PAYLOADS_MAX": "button_payloads_max",
    "GATEWAY_OPENAPI": "openapi",
    "GATEWAY_TRUSTED_PROXIES": "trusted_proxies",
    "GATEWAY_MAX_CONNECTIONS": "max_connections",
    "GATEWAY_HEADER_TIMEOUT": "header_timeout_seconds",
    "GATEWAY_BODY_TIMEOUT": "body_timeout_seconds",
    "GATEWAY_KEEP_ALIVE": "keep_alive_seconds",
    "STAFF_SESSION_HOURS": "staff_session_hours",
    "STAFF_COOKIE_SECURE": "staff_cookie_secure",
    "STAFF_ABANDON_SECONDS": "staff_abandon_seconds",
    "STAFF_CANNED_FILE": "staff_canned_file",
    "CHECKLIST_LINK_DAYS": "checklist_link_days",
    "PUBLIC_BASE_URL": "public_base_url",
    "KIOSK_IDLE_SECONDS": "kiosk_idle_seconds",
    "KIOSK_COUNTDOWN_SECONDS": "kiosk_countdown_seconds",
    "KIOSK_SITUATIONS_FILE": "kiosk_situations_file",
    "TELEGRAM_TOKEN": "telegram_token",
    "TELEGRAM_MODE": "telegram_mode",
    "TELEGRAM_WEBHOOK_URL": "telegram_webhook_url",
    "TELEGRAM_SECRET": "telegram_secret",
    "TELEGRAM_API_BASE": "telegram_api_base",
    "TELEGRAM_LISTEN_HOST": "telegram_listen_host",
    "TELEGRAM_LISTEN_PORT": "telegram_listen_port",
    "TELEGRAM_FONT": "telegram_font",
}


class SettingsError(ValueError):
    """A gateway environment variable has an unusable value."""


def derive_health_url(webhook_url: str) -> str:
    """``http://h:5055/webhook`` -> ``http://h:5055/health`` (last path segment replaced)."""
    parts = urlsplit(webhook_url)
    base = parts.path.rstrip("/").rsplit("/", 1)[0] if "/" in parts.path.strip("/") else ""
    return urlunsplit((parts.scheme, parts.netloc, f"{base}/health", "", ""))


class Settings(BaseModel):
    """Gateway configuration. Build it with :meth:`from_env` (or directly, in tests)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    log_level: str = "info"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str | None = Field(default=None, repr=False)  # secret: kept out of logs
    action_server_url: str = "http://127.0.0.1:5055/webhook"
    action_server_health_url: str | None = None  # None: derived from action_server_url
    redis_url: str = "redis://127.0.0.1:6390/0"
    chat_max_chars: int = Field(default=4000, ge=1)
    chat_timeout_seconds: float = Field(default=30.0, gt=0)
    sender_max_chars: int = Field(default=128, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    health_timeout_seconds: float = Field(default=2.0, gt=0)
    knowledge_preload: bool = True
    handoff_wait_seconds: float = Field(default=600.0, ge=0)
    handoff_live: bool = True
    staff_requeue_interval_seconds: float = Field(default=15.0, gt=0)
    inbox_rate_per_conversation: str = "60/minute;1000/hour"
    inbox_max_waiting: int = Field(default=200, ge=0)
    chat_rate_per_conversation: str = "20/minute;200/hour"
    chat_rate_per_client: str = "120/minute;2000/hour"
    rate_limit_exempt_clients: str = "127.0.0.1,::1"
    chat_turn_wait_seconds: float = Field(default=10.0, gt=0)
    chat_turn_queue: int = Field(default=1, ge=0)
    rasa_max_concurrency: int = Field(default=16, ge=1, le=100)
    button_payloads_ttl_seconds: int = Field(default=86400, ge=1)
    button_payloads_max: int = Field(default=64, ge=1)
    openapi: bool = False
    trusted_proxies: str = "127.0.0.1"
    max_connections: int = Field(default=1000, ge=1)
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=15.0, gt=0)
    keep_alive_seconds: int = Field(default=5, ge=1)
    staff_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    staff_cookie_secure: bool = False
    staff_abandon_seconds: float = Field(default=90.0, ge=15)
    staff_canned_file: str | None = None  # None: bot/staff/canned_replies.yml
    checklist_link_days: float = Field(default=7.0, gt=0, le=366)
    public_base_url: str | None = None  # None: the request's base URL (docs/kiosk.md)
    kiosk_idle_seconds: int = Field(default=120, ge=10, le=3600)
    kiosk_countdown_seconds: int = Field(default=20, ge=3, le=300)
    kiosk_situations_file: str | None = None  # None: bot/kiosk/situations.yml
    telegram_token: str | None = Field(default=None, repr=False)  # secret: kept out of logs
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_url: str | None = None
    telegram_secret: str | None = Field(default=None, repr=False, pattern=r"^[A-Za-z0-9_-]{1,256}$")
    telegram_api_base: str = "https://api.telegram.org/bot"
    telegram_listen_host: str = "127.0.0.1"
    telegram_listen_port: int = Field(default=8443, ge=1, le=65535)
    telegram_font: str | None = None  # None: WenQuanYi Micro Hei, else fc-match (bot/telegram/document.py)

    @field_validator("chat_rate_per_conversation", "chat_rate_per_client", "inbox_rate_per_conversation")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate such as '20/minute;200/hour': {exc}") from None
        return value

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("not a base URL such as 'https://yjs.example.gov.cn'")
        return value.strip().rstrip("/")

    @property
    def exempt_clients(self) -> frozenset[str]:
        """``RATE_LIMIT_EXEMPT_CLIENTS`` as a set; ``none`` exempts nobody (an empty value means the default)."""
        if self.rate_limit_exempt_clients.strip().lower() == "none":
            return frozenset()
        return frozenset(c.strip() for c in self.rate_limit_exempt_clients.split(",") if c.strip())

    @property
    def rasa_base_url(self) -> str:
        return self.rasa_url.rstrip("/")

    @property
    def rasa_webhook_url(self) -> str:
        return f"{self.rasa_base_url}/webhooks/rest/webhook"

    def rasa_conversation_url(self, conversation: str, endpoint: str) -> str:
        """HTTP API: ``/conversations/{conversation}/{endpoint}`` (``?token=`` added when one is set).

        ``conversation`` is a conversation id (``bot.conversation.conversation_id``): it is used in
        the path as it is, because Rasa does not percent-decode path segments."""
        if not is_conversation_id(conversation):
            raise ValueError("not a conversation id (see bot.conversation)")
        url = f"{self.rasa_base_url}/conversations/{conversation}/{endpoint}"
        return f"{url}?token={quote(self.rasa_token, safe='')}" if self.rasa_token else url

    def rasa_events_url(self, conversation: str) -> str:
        """HTTP API: append events to a conversation's tracker."""
        return self.rasa_conversation_url(conversation, "tracker/events")

    @property
    def action_server_health(self) -> str:
        return self.action_server_health_url or derive_health_url(self.action_server_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {field: env[var] for var, field in ENV_FIELDS.items() if env.get(var, "").strip()}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            field_to_var = {field: var for var, field in ENV_FIELDS.items()}
            problems = "; ".join(
                f"{field_to_var.get(str(err['loc'][0]), err['loc'][0])}={values.get(str(err['loc'][0]))!r}: "
                f"{err['msg']}"
                for err in exc.errors()
            )
            raise SettingsError(f"invalid gateway settings: {problems}") from None
