"""The one error type of the `twin` command: a problem the user can fix."""


class UserError(Exception):
    """A problem the user can fix; printed as one sentence, exit code 2."""
