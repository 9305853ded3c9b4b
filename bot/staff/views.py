"""JSON shapes of the staff API: tickets, events, bookings (plain dicts, built from the records)."""

from __future__ import annotations

import time
from typing import Any

from bot.conversation import sender_id
from records.appointments import PERIOD_LABELS, Booking
from records.events import Event, EventKind
from records.ticket_model import OUTCOME_LABELS, HandoffTicket, TicketStatus

STATUS_NAMES = {
    TicketStatus.waiting: "waiting",
    TicketStatus.picked_up: "claimed",
    TicketStatus.closed: "closed",
    TicketStatus.resumed: "resumed",
}
BOOKING_STATUS_LABELS = {"booked": "已预约", "cancelled": "已取消", "attended": "已到", "no_show": "未到"}


def ticket_view(ticket: HandoffTicket, now: float | None = None, place: int | None = None) -> dict[str, Any]:
    """A ticket as staff see it. ``wait_seconds``: so far while waiting, else until it was taken."""
    now = time.time() if now is None else now
    if ticket.status == TicketStatus.waiting:
        waited = now - ticket.created_at
    elif ticket.claimed_at is not None:
        waited = ticket.claimed_at - ticket.created_at
    else:
        waited = (ticket.closed_at or ticket.updated_at or now) - ticket.created_at
    return {
        "id": ticket.id,
        "sender": sender_id(ticket.sender),
        "conversation": ticket.sender,
        "channel": ticket.channel,
        "status": STATUS_NAMES[ticket.status],
        "place": place,
        "priority": ticket.priority,
        "priority_reason": ticket.priority_reason,
        "why": ticket.why,
        "created": ticket.created_at,
        "wait_seconds": max(0, round(waited)),
        "matched_things": [t.model_dump() for t in ticket.matched_things],
        "current_thing": ticket.current_thing.model_dump() if ticket.current_thing else None,
        "checklist": ticket.checklist,
        "conditions": list(ticket.conditions),
        "consent": ticket.consent,
        "contact": ticket.contact if ticket.consent else None,
        "staff": ticket.staff,
        "claimed_at": ticket.claimed_at,
        "closed_at": ticket.closed_at,
        "transcript": [line.model_dump() for line in ticket.transcript],
        "notes": [note.model_dump() for note in ticket.notes],
        "outcome": ticket.outcome.value if ticket.outcome else None,
        "outcome_label": OUTCOME_LABELS[ticket.outcome] if ticket.outcome else None,
        "staff_note": ticket.staff_note,
        "returned_to_bot": ticket.returned_to_bot,
    }


_TEXT_KINDS = (EventKind.staff_message, EventKind.citizen_message)


def event_view(event: Event) -> dict[str, Any]:
    """An event for the console. Only staff and citizen messages carry text (never a private note)."""
    data: dict[str, Any] = {
        "kind": event.kind.value,
        "ticket_id": event.ticket,
        "sender": sender_id(event.conversation),
        "status": event.status,
        "priority": event.priority,
        "ts": event.ts,
    }
    for name in ("staff", "outcome", "return_to_bot", "reason"):
        value = getattr(event, name)
        if value is not None:
            data[name] = value
    if event.kind in _TEXT_KINDS and event.text is not None:
        data["text"] = event.text
    return data


def booking_view(booking: Booking) -> dict[str, Any]:
    return {
        "code": booking.code,
        "date": booking.date.isoformat(),
        "period": booking.period,
        "period_label": PERIOD_LABELS.get(booking.period, booking.period),
        "sender": sender_id(booking.conversation),
        "conversation": booking.conversation,
        "channel": booking.channel,
        "thing_code": booking.thing_code,
        "thing_title": booking.thing_title,
        "checklist": booking.checklist,
        "status": booking.status.value,
        "status_label": BOOKING_STATUS_LABELS.get(booking.status.value, booking.status.value),
        "created_at": booking.created_at,
        "marked_at": booking.marked_at,
        "marked_by": booking.marked_by,
    }
