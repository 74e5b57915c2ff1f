"""FindDocuments filters (ITI-18 parameters, reference §4.8) as a pure predicate over stored entries.

The store narrows by patient and status in SQL; these finer filters run in Python on the patient's few
hundred entries at most. Semantics follow IHE ITI TF-2 3.18.4.1.2.3.6: a list of codes is an OR, time
ranges are ``From <= t < To``, an entry lacking a filtered time never matches.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from dmpclient.codes import Code
from mock_server.store.records import DocumentRow

__all__ = ["DocumentFilter"]


def _codes_match(wanted: Collection[Code], actual: Collection[Code]) -> bool:
    """No filter, or one of ``actual`` equals one of ``wanted`` by code and coding scheme (never display)."""
    if not wanted:
        return True
    keys = {(w.code, w.system) for w in wanted}
    return any((a.code, a.system) in keys for a in actual)


def _in_range(moment: datetime | None, start: datetime | None, stop: datetime | None) -> bool:
    if start is None and stop is None:
        return True
    if moment is None:
        return False
    return (start is None or moment >= start) and (stop is None or moment < stop)


@dataclass(frozen=True, slots=True)
class DocumentFilter:
    """Optional FindDocuments criteria beyond patient and status; empty fields do not filter."""

    class_codes: tuple[Code, ...] = ()
    type_codes: tuple[Code, ...] = ()
    format_codes: tuple[Code, ...] = ()
    practice_setting_codes: tuple[Code, ...] = ()
    healthcare_facility_type_codes: tuple[Code, ...] = ()
    event_codes: tuple[Code, ...] = ()
    confidentiality_codes: tuple[Code, ...] = ()
    author_ids: tuple[str, ...] = ()
    creation_from: datetime | None = None
    creation_to: datetime | None = None
    service_start_from: datetime | None = None
    service_start_to: datetime | None = None
    service_stop_from: datetime | None = None
    service_stop_to: datetime | None = None

    def matches(self, row: DocumentRow) -> bool:
        """Whether the entry satisfies every criterion."""
        meta = row.metadata
        return (
            _codes_match(self.class_codes, (meta.class_code,))
            and _codes_match(self.type_codes, (meta.type_code,))
            and _codes_match(self.format_codes, (meta.format_code,))
            and _codes_match(self.practice_setting_codes, (meta.practice_setting_code,))
            and _codes_match(self.healthcare_facility_type_codes, (meta.healthcare_facility_type_code,))
            and _codes_match(self.event_codes, meta.event_codes)
            and _codes_match(self.confidentiality_codes, meta.confidentiality)
            and (not self.author_ids or meta.author.id in self.author_ids)
            and _in_range(meta.creation_time, self.creation_from, self.creation_to)
            and _in_range(meta.service_start_time, self.service_start_from, self.service_start_to)
            and _in_range(meta.service_stop_time, self.service_stop_from, self.service_stop_to)
        )
