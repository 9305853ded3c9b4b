"""Pydantic models at the gateway's edges, and the one exception type that becomes a JSON error."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# --- errors -----------------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable, e.g. missing_field, message_too_long")
    message: str = Field(description="plain Simplified Chinese, safe to show to the user")
    field: str | None = Field(default=None, description="the offending field or parameter, if any")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """Raised anywhere in the gateway; rendered as ``{"error": {...}}`` with ``status_code``."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code = status_code
        self.detail = ErrorDetail(code=code, message=message, field=field)
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return ErrorResponse(error=self.detail).model_dump(mode="json")


# --- chat (Rasa REST-channel shapes) ----------------------------------------------------------------


class ChatRequest(BaseModel):
    """``POST /api/chat`` body. Limits are configurable, so they are checked in code, not here."""

    sender: str = Field(description="stable id of the conversation (1..SENDER_MAX_CHARS characters)")
    message: str = Field(description="what the user typed (1..CHAT_MAX_CHARS characters after trimming)")


class Button(BaseModel):
    model_config = ConfigDict(extra="allow")

    title: str
    payload: str


class BotMessage(BaseModel):
    """One message of the reply, as Rasa's REST channel sends it. Unknown keys pass through."""

    model_config = ConfigDict(extra="allow")

    recipient_id: str
    text: str | None = None
    buttons: list[Button] | None = None
    image: str | None = None
    custom: Any = None


# --- health -----------------------------------------------------------------------------------------


class ServiceHealth(BaseModel):
    ok: bool
    detail: str


class HealthReport(BaseModel):
    status: Literal["ok", "degraded"]
    services: dict[str, ServiceHealth]


# --- things -----------------------------------------------------------------------------------------


class ThingHit(BaseModel):
    code: str
    title: str
    score: float


class ThingsResponse(BaseModel):
    results: list[ThingHit]
