"""The staff side of the 帮代办 handoff: the staff API (``/api/staff/…``) and the console (``/staff``).

- ``api``       the router: login and sessions, tickets, messages, notes, close, appointments,
                figures, canned replies, live events (server-sent events); the console's files
- ``sessions``  server-side sessions in Redis (``yjs:staff:session:<sha256>``)
- ``views``     the JSON shapes of tickets, events and bookings
- ``stats``     the day's figures
- ``static/``   the console: plain HTML, CSS and JavaScript, Chart.js vendored (no CDN, no build)
- ``canned_replies.yml`` the county's common answers (``STAFF_CANNED_FILE``)

The records (queue, events, appointments, users) live in ``records/``.
"""

from bot.staff.api import create_router

__all__ = ["create_router"]
