"""Service-hours settings for the tests (records.service_hours reads them from the environment)."""

# Staff "at work" around the clock, so a handoff writes a ticket at any hour the tests run.
ALWAYS_OPEN = {"SERVICE_HOURS": "00:00-23:59:59", "SERVICE_WEEKDAYS": "mon,tue,wed,thu,fri,sat,sun"}
# Staff at work for one second a day: outside service hours whenever the tests run.
ALWAYS_CLOSED = {"SERVICE_HOURS": "00:00-00:00:01"}
# The test stacks: always open; a queue of 120 waiting tickets (10 hours at the default 5 minutes a
# place) before an appointment is offered instead (tests/e2e/test_chat_appointments.py fills the queue).
TEST_STACK_ENV = {**ALWAYS_OPEN, "APPOINTMENT_OFFER_WAIT_MINUTES": "600"}
