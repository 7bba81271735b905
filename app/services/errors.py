"""What a use case refuses, in the application's own terms: one error handler
(``app.errors``) turns them into 404, 403 and 409 for a request; a worker or a command reads
them as they are."""
from __future__ import annotations


class ServiceError(Exception):
    """A refused operation; ``code`` names the reason for whoever shows it."""

    def __init__(self, code: str = ""):
        super().__init__(code)
        self.code = code


class NotFound(ServiceError):
    """No such thing, or none this user may know about."""


class NotAllowed(ServiceError):
    """It exists and the user may see it, but not do this to it."""


class Conflict(ServiceError):
    """Someone else changed it first, or its state does not allow this now."""
