"""One published version, as the publication and the report see it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Publication:
    """A version that is now current: its id, when it was made, and the live manifest."""

    publication_id: str
    published_at: str
    version_dir: Path
    catalog: Path
    manifest: dict[str, Any]
