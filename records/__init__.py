"""Shared records in Redis: one home for the action server and the gateway.

Modules (each lists its Redis keys in its docstring):

- ``client``        the one client factory: ``sync_client(url)``, ``async_client(url)`` (``REDIS_URL``)
- ``cas``           compare-and-set of one JSON record plus its index updates, in one Lua script
- ``tickets``       the one handoff ticket store: keys, load, create (with the ``created`` event),
                    look-ups, atomic updates; async, plus ``*_sync`` functions for the action server
- ``staff_queue``   staff side: claim, heartbeat, requeue_abandoned, close, messages, notes, lists,
                    queue position and wait estimate
- ``handback``      gateway side: citizen messages, resume, queue-place notices, the hand-back
                    protocol after a close, the 办不成事 case of a close as 无法办理
- ``events``        ``yjs:handoff:events`` stream for live delivery across gateway processes
- ``inbox``         ``yjs:handoff:inbox:<conversation>`` streams: what staff say to a person
- ``service_hours`` staff hours, working days, holidays, appointment slots (settings from env)
- ``appointments``  帮代办 bookings with capacity and codes
- ``staff_users``   staff accounts (argon2id) and login limiting
- ``checklist_links`` finished checklists behind a random token, for a phone link / QR code
- ``errors``        NotFound / Conflict / Invalid (→ 404 / 409 / 422)
- ``ticket_model``  the handoff ticket (pydantic, schema 1; docs/handoff.md)
- ``handoff_phrases`` the words that bring the assistant back while a person waits
- ``case_model``, ``case_store`` 办不成事 / complaint / bad-rating cases and 好差评 ratings (docs/cases.md)

Redis keys (all in the database of ``REDIS_URL``; app keys start with ``yjs:``):

| Key | Type | Module |
|---|---|---|
| ``yjs:handoff:ticket:<id>`` | string (JSON ticket) | tickets |
| ``yjs:handoff:queue`` | sorted set, waiting ids by queue score | tickets |
| ``yjs:handoff:by_sender:<conversation>`` | string, ticket id | tickets, handback |
| ``yjs:handoff:claimed`` | sorted set, picked-up ids by claimed_at | staff_queue |
| ``yjs:handoff:closed`` | sorted set, closed ids by closed_at | staff_queue |
| ``yjs:handoff:staff_seen`` | sorted set, staff → last heartbeat | staff_queue |
| ``yjs:handoff:pickups`` | list, last 50 ``"<created_at> <claimed_at>"`` | staff_queue |
| ``yjs:handoff:returning:<id>`` | string with expiry, hand-back lease | handback |
| ``yjs:handoff:told_place:<id>`` | string with expiry, last queue place told | handback |
| ``yjs:handoff:events`` | stream, capped ~10,000 | events |
| ``yjs:handoff:inbox:<conversation>`` | stream, capped ~1,000, expires after 7 days | inbox |
| ``yjs:appt:booking:<code>`` | string (JSON booking) | appointments |
| ``yjs:appt:slot:<date>:<period>`` | hash conversation → code (active bookings) | appointments |
| ``yjs:appt:day:<date>`` | sorted set of codes by created_at | appointments |
| ``yjs:appt:by_conv:<conversation>`` | set of codes | appointments |
| ``yjs:staff:user:<username>`` | hash (argon2id hash, display name, times) | staff_users |
| ``yjs:staff:users`` | set of usernames | staff_users |
| ``yjs:staff:login_fail:<digest>`` | counter with 15 min expiry | staff_users |
| ``yjs:checklist:link:<token>`` | string (JSON checklist) with expiry (``CHECKLIST_LINK_DAYS``) | checklist_links |
"""
