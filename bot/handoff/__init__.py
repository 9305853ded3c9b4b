"""Human handoff: the ticket model and its Redis store (shared by the action server and the gateway),
and the gateway's routing of messages while a person waits for staff. See docs/handoff.md."""
