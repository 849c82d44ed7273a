"""Connection templates: ``{directory}`` and ``{unique}`` expanded into one string per store."""

from __future__ import annotations

import pathlib
import uuid
from typing import Dict, Optional


class ConnectionStrings:
    """A template's strings: a new one per ``fresh`` store; the same one again for its directory."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.by_directory: Dict[str, str] = {}

    def fresh(self, directory: pathlib.Path) -> str:
        """A string for a new store in ``directory``: ``{directory}`` is it, ``{unique}`` a new id."""
        expanded = self.template.replace("{directory}", str(directory))
        expanded = expanded.replace("{unique}", uuid.uuid4().hex[:12])
        self.by_directory[str(directory)] = expanded
        return expanded

    def existing(self, directory: pathlib.Path) -> str:
        """The string of the store made in ``directory`` (a fresh one if none was made yet)."""
        return self.by_directory.get(str(directory)) or self.fresh(directory)

    def forget(self, directory: pathlib.Path) -> Optional[str]:
        """Drop and return the string of the store made in ``directory``, if any."""
        return self.by_directory.pop(str(directory), None)
