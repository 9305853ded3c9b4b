"""Errors the records modules raise; the staff API maps them to HTTP answers (404, 409, 422, 429)."""

from __future__ import annotations


class RecordError(Exception):
    """Base class. ``message`` is short Simplified Chinese, fit to show to staff or to a person."""

    message = "操作没有成功，请稍后再试。"

    def __init__(self, detail: str = "", message: str | None = None) -> None:
        super().__init__(detail or self.message)
        if message is not None:
            self.message = message


class NotFound(RecordError):
    message = "没有找到这条记录。"


class Conflict(RecordError):
    """The record is not in a state that allows this (e.g. a claim on a ticket that is not waiting)."""

    message = "这条记录刚刚被别人处理过了，请刷新后再看。"


class Invalid(RecordError, ValueError):
    message = "填写的内容不符合要求。"
