"""Provider channels (Telegram, WhatsApp through Twilio) and what they share.

Each channel turns the neutral messages of `bot.messages` into its provider's format
and back; nothing outside this package knows a provider's format. This module imports
nothing so that `bot.config` can use `bot.channels.templates` without a cycle.
"""
