"""The errors data loading raises: each message names the file and what to do."""

from __future__ import annotations


class DataError(ValueError):
    """A data file is missing, corrupt or malformed; the message names it."""


class DataNotFoundError(DataError):
    """A needed file is in none of the searched places (and was not downloaded)."""


class ChecksumError(DataError):
    """A file's digest is not one of the accepted ones; it is never used."""
