"""Wegwijs: a chatbot that helps parents support their child's study choice."""

__version__ = "0.1.0"
