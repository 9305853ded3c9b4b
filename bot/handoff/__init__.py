"""Human handoff, the gateway side: routing a message while its sender waits for staff (router.py).
The ticket model and stores live in ``records`` (shared with the action server). See docs/handoff.md."""
