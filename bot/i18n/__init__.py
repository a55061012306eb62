"""Translations: texts per language with a review state for each string."""
