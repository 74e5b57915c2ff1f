"""Feeding the DMP in bulk: the local journal of submissions, the bulk driver, the origin of a submission.

The clients expose it as ``DmpClient.feed_many`` / ``AsyncDmpClient.feed_many``; ``dmp feed`` is its CLI.
"""

from __future__ import annotations

from dmpclient.feeding.bulk import FeedOutcome, FeedReport, FeedStatus, afeed_many, feed_many
from dmpclient.feeding.journal import FeedJournal, JournalEntry, JournalState
from dmpclient.feeding.origin import Origin, SenderKind, author_of

__all__ = [
    "FeedJournal",
    "FeedOutcome",
    "FeedReport",
    "FeedStatus",
    "JournalEntry",
    "JournalState",
    "Origin",
    "SenderKind",
    "afeed_many",
    "author_of",
    "feed_many",
]
