"""Errors carry the CLI's diagnostics: each with file, line, column, field and message, as data."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Diagnostic:
    """One problem the loaders found, as `metalgate validate` prints it (`text`)."""

    severity: str  # "error", "warning" or "note"
    file: str
    line: int
    column: int
    field: str
    message: str
    text: str

    def __str__(self):
        return self.text


class Error(Exception):
    """Base of metalgate's errors."""


class ConfigError(Error):
    """Input that does not load: manifests (validate) or a scenario. `diagnostics` holds every problem;
    `str()` is the CLI's text, one `file:line:column: error: field: message` a line."""

    def __init__(self, diagnostics, text):
        self.diagnostics = [d if isinstance(d, Diagnostic) else Diagnostic(**d) for d in diagnostics]
        self.errors = [d for d in self.diagnostics if d.severity == "error"]
        super().__init__(text.rstrip("\n"))


class ScenarioError(ConfigError):
    """A scenario that does not load, or that a world cannot run."""


def raise_if_failed(outcome, error=ConfigError):
    """Raises `error` with the diagnostics of an outcome dict from the C++ side when it failed."""
    if not outcome["ok"]:
        raise error(outcome["diagnostics"], outcome["text"] or "the run did not start")
