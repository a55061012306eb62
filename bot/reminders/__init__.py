"""Reminders for school meetings: planning rows, claiming due rows into the outbox,
rendering them in the parent's language, answers (RSVP) and calendar files."""
