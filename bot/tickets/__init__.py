"""Peer volunteers: tickets for a person, the relay between parent and volunteer, with
language routing and machine translation, escalation, and statistics."""
