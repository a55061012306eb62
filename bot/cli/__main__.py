"""`python -m bot.cli` runs the `wegwijs` command."""

from bot.cli.main import main

main()
