"""Schema of the mock DMP store and its ordered migrations (``PRAGMA user_version`` = migrations applied).

Append a new tuple of statements to :data:`MIGRATIONS` to change the schema; never edit an applied one.
:func:`migrate` runs the missing ones in a single ``BEGIN IMMEDIATE`` transaction, so two processes
opening the same file at once cannot both apply them, and a crash leaves the previous version intact.
"""

from __future__ import annotations

import sqlite3
from typing import Final

from mock_server.store.records import StoreError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate"]

_STATUSES: Final = (
    "'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved', 'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated', "
    "'urn:asip:ci-sis:2010:StatusType:Archived', 'urn:asip:ci-sis:2010:StatusType:Deleted'"
)

_V1: Final = (
    """CREATE TABLE patients (
        ins TEXT PRIMARY KEY,
        ins_oid TEXT NOT NULL,
        family_name TEXT NOT NULL,
        given_name TEXT NOT NULL,
        birth_name TEXT,
        birth_date TEXT NOT NULL,
        gender TEXT NOT NULL CHECK (gender IN ('M', 'F', 'U')),
        dmp_status TEXT NOT NULL CHECK (dmp_status IN ('active', 'closed', 'none')),
        opposition_bris_de_glace INTEGER NOT NULL DEFAULT 0,
        opposition_acces_urgence INTEGER NOT NULL DEFAULT 0,
        masked_visible_in_emergency INTEGER NOT NULL DEFAULT 0,
        mes_attached INTEGER NOT NULL DEFAULT 0,
        web_account INTEGER NOT NULL DEFAULT 0,
        secret_connection INTEGER NOT NULL DEFAULT 0,
        minor INTEGER NOT NULL DEFAULT 0,
        legal_representatives TEXT NOT NULL DEFAULT '[]',
        closed_at TEXT
    ) STRICT""",
    """CREATE TABLE authorisations (
        patient_ins TEXT NOT NULL REFERENCES patients (ins) ON DELETE CASCADE,
        subject_kind TEXT NOT NULL CHECK (subject_kind IN ('professional', 'structure')),
        subject_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('VALIDE', 'INTERDIT', 'EXPIRE')),
        treating_physician INTEGER NOT NULL DEFAULT 0,
        granted_at TEXT NOT NULL,
        last_action_at TEXT NOT NULL,
        expires_at TEXT,
        family_name TEXT,
        given_name TEXT,
        specialty TEXT,
        PRIMARY KEY (patient_ins, subject_kind, subject_id)
    ) STRICT, WITHOUT ROWID""",
    "CREATE INDEX authorisations_by_subject ON authorisations (subject_id)",
    """CREATE TABLE contents (
        hash TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        data BLOB NOT NULL
    ) STRICT""",
    f"""CREATE TABLE submission_sets (
        entry_uuid TEXT PRIMARY KEY,
        unique_id TEXT NOT NULL UNIQUE,
        patient_ins TEXT NOT NULL REFERENCES patients (ins),
        status TEXT NOT NULL CHECK (status IN ({_STATUSES})),
        submission_time TEXT NOT NULL,
        metadata TEXT NOT NULL,
        created_at TEXT NOT NULL
    ) STRICT""",
    f"""CREATE TABLE documents (
        entry_uuid TEXT PRIMARY KEY,
        lid TEXT NOT NULL,
        version_name INTEGER NOT NULL,
        unique_id TEXT NOT NULL,
        patient_ins TEXT NOT NULL REFERENCES patients (ins),
        status TEXT NOT NULL CHECK (status IN ({_STATUSES})),
        masked_to_ps INTEGER NOT NULL DEFAULT 0,
        invisible_to_patient INTEGER NOT NULL DEFAULT 0,
        invisible_to_legal_reps INTEGER NOT NULL DEFAULT 0,
        content_hash TEXT NOT NULL REFERENCES contents (hash),
        metadata TEXT NOT NULL,
        submission_set_id TEXT REFERENCES submission_sets (entry_uuid) DEFERRABLE INITIALLY DEFERRED,
        created_at TEXT NOT NULL,
        UNIQUE (lid, version_name)
    ) STRICT""",
    "CREATE INDEX documents_by_patient ON documents (patient_ins, status)",
    "CREATE INDEX documents_by_unique_id ON documents (unique_id)",
    """CREATE TABLE associations (
        entry_uuid TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        slots TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    ) STRICT""",
    "CREATE INDEX associations_by_source ON associations (source)",
    "CREATE INDEX associations_by_target ON associations (target)",
    """CREATE TABLE access_trace (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        td TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('allowed', 'refused', 'error')),
        ps_id TEXT,
        structure_id TEXT,
        auth_mode TEXT,
        role TEXT,
        access_mode TEXT,
        patient_ins TEXT,
        detail TEXT,
        message_id TEXT
    ) STRICT""",
    "CREATE INDEX access_trace_by_patient ON access_trace (patient_ins, id)",
)

#: v2: the whole administrative record of TD1.3a/TD1.3b (given names, addresses, telecoms, birth place, deceased,
#: legacy INS-C; legal representatives become JSON objects with their own addresses and telecoms) and the
#: structure a professional declared his authorisation from (TD0.4 "same structure" notes).
_V2: Final = (
    "ALTER TABLE patients ADD COLUMN other_given_names TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE patients ADD COLUMN addresses TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE patients ADD COLUMN telecoms TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE patients ADD COLUMN birth_place TEXT",
    "ALTER TABLE patients ADD COLUMN deceased INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE patients ADD COLUMN ins_c TEXT",
    """UPDATE patients SET legal_representatives = (
        SELECT json_group_array(json_object(
            'relation', json_extract(r.value, '$[0]'),
            'family_name', json_extract(r.value, '$[1]'),
            'given_name', json_extract(r.value, '$[2]'),
            'addresses', json('[]'),
            'telecoms', json('[]')))
        FROM json_each(patients.legal_representatives) AS r)""",
    "ALTER TABLE authorisations ADD COLUMN structure_id TEXT",
)

#: Ordered migrations; index i brings the schema from version i to i + 1.
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (_V1, _V2)
#: The schema version this code expects.
SCHEMA_VERSION: Final = len(MIGRATIONS)


def migrate(connection: sqlite3.Connection) -> int:
    """Apply the missing migrations atomically and return the schema version.

    Raises:
        StoreError: the file was written by a newer mock (unknown schema version).
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        current = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the database schema is version {current}, newer than this mock's {SCHEMA_VERSION}; "
                "upgrade dmpclient or point the mock at another data directory"
            )
        for statements in MIGRATIONS[current:]:
            for statement in statements:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION
