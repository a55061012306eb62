"""What can go wrong with machine translation, as one exception hierarchy.

Callers that only need to know "no machine translation this time" catch
`TranslationError` and fall back to the original text. Messages name languages,
pairs and commands, never the text being translated.
"""

from __future__ import annotations

INSTALL_FROM_FILE = "`wegwijs models install PATH.argosmodel`"


def install_command(source: str, target: str) -> str:
    """The command that installs the model for one pair from the package index."""
    return f"`wegwijs models install {source} {target}`"


class TranslationError(Exception):
    """Base class: the text could not be machine translated."""


class ModelMissingError(TranslationError):
    """No installed model (direct or through the pivot language) for a pair."""

    def __init__(self, source: str, target: str, missing: list[tuple[str, str]]) -> None:
        self.source = source
        self.target = target
        self.missing = missing
        commands = " and ".join(install_command(a, b) for a, b in missing)
        super().__init__(f"no translation model for {source} → {target}: install one with "
                         f"{commands}, or {INSTALL_FROM_FILE}")


class TranslationTimeoutError(TranslationError):
    """Translation took longer than allowed (the model may still finish in the background)."""

    def __init__(self, source: str, target: str, seconds: float) -> None:
        self.source = source
        self.target = target
        self.seconds = seconds
        super().__init__(f"translating {source} → {target} took longer than {seconds:g} s")


class ModelFailedError(TranslationError):
    """The model itself failed on the input (for example, input too long for it)."""


class ProtectedTextLostError(TranslationError):
    """A placeholder or glossary term did not survive translation intact."""


class ModelStoreError(TranslationError):
    """Installing, listing or removing models failed."""


class PackageIndexUnavailableError(ModelStoreError):
    """The online package index (or a download from it) could not be reached."""


class InvalidPackageError(ModelStoreError):
    """A file is not a usable .argosmodel package."""


class ModelNotInstalledError(ModelStoreError):
    """No installed model for the pair that was asked for."""
