"""Whose document is it: the one definition of "own documents" (526/606 notes 6 and 8) for every part of the mock.

A document is the caller's own when its stored author is a professional **or a device** whose id is the
caller's VIHF ``Subject/NameID``. Devices count (project design): an automated sender's VIHF subject is the id
it authors under (SEED / DMP-CONF 12: an ``authorPerson`` may be a device), so a feeding platform may manage
what it sent. A patient author (his INS) is never a caller's own; neither is an author without id.
"""

from __future__ import annotations

from typing import Final

from mock_server.store.records import Author, AuthorKind

__all__ = ["is_own"]

_CALLER_KINDS: Final = frozenset({AuthorKind.PROFESSIONAL, AuthorKind.DEVICE})


def is_own(author: Author, caller_id: str) -> bool:
    """Whether ``author`` is the caller whose VIHF NameID is ``caller_id`` (TD3.2 note 6, TD3.3 note 8)."""
    return author.kind in _CALLER_KINDS and bool(author.id) and author.id == caller_id
