"""Settings from environment variables (and a `.env` file), checked at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.channels.templates import ContentTemplates

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,100}$")
TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TWILIO_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
TWILIO_TOKEN = re.compile(r"^[0-9a-fA-F]{32}$")
WHATSAPP_ADDRESS = re.compile(r"^whatsapp:\+[1-9]\d{6,14}$")


class Settings(BaseSettings):
    """Every setting has a default that works on a laptop with nothing configured."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("data"), validation_alias="WEGWIJS_DATA_DIR")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    content_root: Path = Field(default=PROJECT_ROOT, validation_alias="WEGWIJS_CONTENT_ROOT")
    message_retention_days: int = Field(default=30, ge=1, le=3650,
                                        validation_alias="WEGWIJS_MESSAGE_RETENTION_DAYS")
    host: str = Field(default="127.0.0.1", validation_alias="WEGWIJS_HOST")
    port: int = Field(default=8000, ge=1, le=65535, validation_alias="PORT")
    log_level: str = Field(default="INFO", validation_alias="WEGWIJS_LOG_LEVEL")
    # Offline machine translation (bot/translation). The packages folder defaults to
    # <data_dir>/argos-packages; on 2 cores one thread per translation was fastest.
    argos_packages_dir: Path | None = Field(default=None,
                                            validation_alias="WEGWIJS_ARGOS_PACKAGES_DIR")
    argos_package_index: str | None = Field(default=None,
                                            validation_alias="WEGWIJS_ARGOS_PACKAGE_INDEX")
    translation_device: Literal["cpu", "cuda"] = Field(
        default="cpu", validation_alias="WEGWIJS_TRANSLATION_DEVICE")
    translation_intra_threads: int = Field(default=1, ge=0, le=64,
                                           validation_alias="WEGWIJS_TRANSLATION_INTRA_THREADS")
    translation_inter_threads: int = Field(default=1, ge=1, le=64,
                                           validation_alias="WEGWIJS_TRANSLATION_INTER_THREADS")
    translation_beam_size: int = Field(default=2, ge=1, le=8,
                                       validation_alias="WEGWIJS_TRANSLATION_BEAM_SIZE")
    translation_timeout_seconds: float = Field(
        default=15.0, gt=0, le=600, validation_alias="WEGWIJS_TRANSLATION_TIMEOUT_SECONDS")
    translation_max_chunk_tokens: int = Field(
        default=150, ge=8, le=1000, validation_alias="WEGWIJS_TRANSLATION_MAX_CHUNK_TOKENS")
    send_lease_seconds: int = Field(default=60, ge=5, le=3600,
                                    validation_alias="WEGWIJS_SEND_LEASE_SECONDS")
    # Tickets for volunteers (bot/tickets, docs/volunteers.md): minutes an open ticket
    # waits for volunteers of the parent's language before everyone is told (with machine
    # translation), before volunteers are reminded, and before the school is told.
    ticket_language_wait_minutes: int = Field(
        default=30, ge=0, le=10080, validation_alias="WEGWIJS_TICKET_LANGUAGE_WAIT_MINUTES")
    ticket_remind_minutes: int = Field(default=120, ge=1, le=10080,
                                       validation_alias="WEGWIJS_TICKET_REMIND_MINUTES")
    ticket_escalate_minutes: int = Field(default=1440, ge=1, le=43200,
                                         validation_alias="WEGWIJS_TICKET_ESCALATE_MINUTES")

    # Channels. A channel whose settings are absent is off. Field order matters: the
    # checks that combine settings read the ones defined above them.
    twilio_account_sid: str | None = Field(default=None, validation_alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr | None = Field(default=None, validate_default=True,
                                                validation_alias="TWILIO_AUTH_TOKEN")
    twilio_whatsapp_from: str | None = Field(default=None, validate_default=True,
                                             validation_alias="TWILIO_WHATSAPP_FROM")
    twilio_api_base_url: str | None = Field(default=None, validation_alias="TWILIO_API_BASE_URL")
    twilio_rate_per_second: float = Field(default=10.0, gt=0, le=1000,
                                          validation_alias="TWILIO_RATE_PER_SECOND")
    twilio_content_templates: str | None = Field(default=None,
                                                 validation_alias="TWILIO_CONTENT_TEMPLATES")
    public_base_url: str | None = Field(default=None, validate_default=True,
                                        validation_alias="PUBLIC_BASE_URL")
    telegram_bot_token: SecretStr | None = Field(default=None,
                                                 validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field(default="https://api.telegram.org",
                                       validation_alias="TELEGRAM_API_BASE_URL")
    telegram_webhook_secret: SecretStr | None = Field(default=None, validate_default=True,
                                                      validation_alias="TELEGRAM_WEBHOOK_SECRET")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not value.startswith(("sqlite://", "postgresql+psycopg://")):
            raise ValueError("DATABASE_URL must start with sqlite:// or postgresql://")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("WEGWIJS_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return level

    # Values are never echoed in these messages: some are secrets.

    @field_validator("twilio_account_sid", "twilio_api_base_url", "twilio_content_templates",
                     "telegram_bot_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("twilio_account_sid")
    @classmethod
    def _twilio_sid(cls, value: str | None) -> str | None:
        if value is not None and not TWILIO_SID.match(value):
            raise ValueError("must be AC followed by 32 hex digits (Twilio console, Account Info)")
        return value

    @field_validator("twilio_auth_token", mode="before")
    @classmethod
    def _twilio_token(cls, value: object, info: ValidationInfo) -> object:
        token = _plain(value)
        if token and not TWILIO_TOKEN.match(token):
            raise ValueError("must be 32 hex digits (Twilio console, Account Info)")
        if bool(token) != bool(info.data.get("twilio_account_sid")):
            raise ValueError("WhatsApp needs both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        return token or None

    @field_validator("twilio_whatsapp_from", mode="before")
    @classmethod
    def _whatsapp_from(cls, value: object, info: ValidationInfo) -> object:
        sender = _plain(value)
        if sender and not WHATSAPP_ADDRESS.match(sender):
            raise ValueError("must be whatsapp:+ followed by the number in E.164 form, "
                             "e.g. whatsapp:+32470000000")
        if bool(sender) != bool(info.data.get("twilio_account_sid")):
            raise ValueError("WhatsApp needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                             "TWILIO_WHATSAPP_FROM together")
        return sender or None

    @field_validator("twilio_api_base_url", "telegram_api_base_url")
    @classmethod
    def _api_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError("must be an http:// or https:// URL without a query")
        return value.rstrip("/")

    @field_validator("twilio_content_templates")
    @classmethod
    def _templates(cls, value: str | None) -> str | None:
        ContentTemplates.parse(value)  # fail at start-up, not at the first reminder
        return value

    @field_validator("public_base_url", mode="before")
    @classmethod
    def _public_url(cls, value: object, info: ValidationInfo) -> object:
        url = _plain(value)
        if url:
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
                raise ValueError("must be an https:// URL without a query, e.g. "
                                 "https://wegwijs.example.org")
        elif info.data.get("twilio_account_sid"):
            raise ValueError("WhatsApp needs PUBLIC_BASE_URL: Twilio must reach "
                             "/webhooks/twilio over HTTPS")
        return url.rstrip("/") or None

    @field_validator("telegram_bot_token")
    @classmethod
    def _telegram_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TELEGRAM_TOKEN.match(value.get_secret_value()):
            raise ValueError("must look like 123456789:AAE... (the token @BotFather gave)")
        return value

    @field_validator("telegram_webhook_secret", mode="before")
    @classmethod
    def _telegram_secret(cls, value: object, info: ValidationInfo) -> object:
        secret = _plain(value)
        if secret and not TELEGRAM_SECRET.match(secret):
            raise ValueError("must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
        if secret and not info.data.get("telegram_bot_token"):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is set but TELEGRAM_BOT_TOKEN is not")
        if not secret and info.data.get("telegram_bot_token") and info.data.get(
                "public_base_url"):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is needed for Telegram in webhook mode "
                             "(PUBLIC_BASE_URL is set)")
        return secret or None

    @property
    def telegram_enabled(self) -> bool:
        """Telegram is on when its token is set."""
        return self.telegram_bot_token is not None

    @property
    def whatsapp_enabled(self) -> bool:
        """WhatsApp (Twilio) is on when its account is set (the checks above ensure the rest)."""
        return self.twilio_account_sid is not None

    @property
    def webhook_mode(self) -> bool:
        """A public URL means providers call our webhooks; without one Telegram polls."""
        return self.public_base_url is not None

    @property
    def effective_database_url(self) -> str:
        """DATABASE_URL, or a SQLite file in the data folder."""
        return self.database_url or f"sqlite:///{self.data_dir / 'wegwijs.db'}"


def _plain(value: object) -> str:
    """A setting's text, whether it came as a string or a SecretStr ("" when unset)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return str(value) if value is not None else ""
