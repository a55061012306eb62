"""Offline machine translation with argostranslate models.

Importing this package does not import argostranslate or CTranslate2: they load at
the first translation or model command.

    translator = MachineTranslator(TranslationConfig.from_settings(settings), db)
    text = await translator.translate_async(text, "nl", "ar", timeout=10)
    text = mark_machine_translated(text, texts["ar"][MACHINE_TRANSLATED_KEY])
"""

from bot.translation.config import TranslationConfig
from bot.translation.errors import (
    InvalidPackageError,
    ModelFailedError,
    ModelMissingError,
    ModelNotInstalledError,
    ModelStoreError,
    PackageIndexUnavailableError,
    ProtectedTextLostError,
    TranslationError,
    TranslationTimeoutError,
)
from bot.translation.installed import InstalledModel
from bot.translation.marker import MACHINE_TRANSLATED_KEY, mark_machine_translated
from bot.translation.protection import ProtectedText, protect, restore
from bot.translation.routes import PIVOT_LANGUAGE, Route, plan_route
from bot.translation.sentences import Piece, split_sentences
from bot.translation.service import MachineTranslator
from bot.translation.store import InstallResult, ModelStore
from bot.translation.terms import DEFAULT_KEEP_TERMS

__all__ = [
    "DEFAULT_KEEP_TERMS",
    "MACHINE_TRANSLATED_KEY",
    "PIVOT_LANGUAGE",
    "InstallResult",
    "InstalledModel",
    "InvalidPackageError",
    "MachineTranslator",
    "ModelFailedError",
    "ModelMissingError",
    "ModelNotInstalledError",
    "ModelStore",
    "ModelStoreError",
    "PackageIndexUnavailableError",
    "Piece",
    "ProtectedText",
    "ProtectedTextLostError",
    "Route",
    "TranslationConfig",
    "TranslationError",
    "TranslationTimeoutError",
    "mark_machine_translated",
    "plan_route",
    "protect",
    "restore",
    "split_sentences",
]
