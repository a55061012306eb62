"""The `wegwijs` command."""
