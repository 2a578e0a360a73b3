"""Problems found in a site's YAML, each pointing at the node that caused it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A place in a YAML file; line and column are 1-based as editors show them."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True)
class SiteProblem:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class SiteInvalid(Exception):
    """Raised when a site cannot be loaded; carries every problem found, not only the first."""

    def __init__(self, problems: list[SiteProblem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))
