"""Safeguarding: a parent's message about danger to a child or an adult gets the
region's emergency numbers at once and opens a priority ticket for a person."""
