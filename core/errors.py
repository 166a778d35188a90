"""Errors that reach the operator as a one-line reason, not a traceback."""


class GenerecError(Exception):
    """Base class for errors the CLI and GUI report as plain messages."""


class InputError(GenerecError):
    """Bad input from the user: a file, a row, an argument. The CLI exits with status 2."""


class MediaError(InputError):
    """A media file cannot be used; the message names the file and the reason."""


class SchemaError(GenerecError):
    """The database was written by a newer version, or is not a GeneRec corpus."""


class Cancelled(GenerecError):
    """Raised by `Progress.check_cancelled` when the operator cancels a job."""
