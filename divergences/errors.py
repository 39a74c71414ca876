"""The one exception type that marks bad user input (the CLI turns it into exit 2)."""


class InputError(ValueError):
    """A user-supplied generator, name or parameter was rejected; the message is one line."""
