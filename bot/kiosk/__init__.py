"""The lobby kiosk channel (issue 12): a full-screen touch page served by the gateway at ``/kiosk``.

- ``api``         the router: the page and its files, config, start-screen situations, sessions
- ``session``     server-made sender ids (``kiosk-<random>``) and the end of a session for the next person
- ``situations``  the start-screen buttons (``situations.yml``), checked against the catalogue
- ``static/``     the page: plain HTML, CSS and JavaScript (no CDN, no web fonts, no build step)

The conversation goes through the gateway's one core like every channel (``POST /api/chat``, which
calls ``bot.app.reply_to``), live messages through ``GET /api/chat/{sender}/events``
(``bot.inbox_events``), checklist links through ``bot.checklist_links``. See docs/kiosk.md.
"""

from bot.kiosk.api import create_router

__all__ = ["create_router"]
