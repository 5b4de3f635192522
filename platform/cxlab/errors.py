"""The one base class for errors a user can act on.

The CLI and the servers show a :class:`CxlabError` as its message, never a traceback.
"""


class CxlabError(Exception):
    """An error whose message tells the user what went wrong and what to do next."""


class NotFound(CxlabError):
    """A tenant, survey, user or key that does not exist (or is not the caller's)."""


class AlreadyExists(CxlabError):
    """Creating something whose unique name is taken."""
