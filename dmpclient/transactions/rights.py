"""The DMP rights matrices as data: who may run which TD, in which authentication and access mode.

Two official tables (reference §8) decide every call: PDT-INF-526 v1.8 for direct (CPS/CPF/CPE card)
and indirect (establishment certificate) authentication, PDT-INF-606 v1.3 for AIR
(``INDIRECTE_RENFORCEE``). They live in ``dmpclient/data/rights_*.csv`` (one row per TD action, one
column per actor × access mode, cells ``oui`` / ``non`` / ``oui(N)``) with their notes in
``rights_notes.csv``. The mock enforces them; the client may use :func:`decide` as a local pre-check.

Project-design choices (reference §8.3), where the tables say nothing:

* the actor comes from the VIHF first role (:func:`actor_from_roles`): profession ``10`` is a médecin, any
  other numeric TRE_G15 code a PS non médecin, a non-numeric code (TRE_A00 ``SECRETARIAT_MEDICAL``…) is
  non-PS staff: CPE in direct mode, PE in AIR; in indirect mode everyone is the "certificat ES" column;
* a médecin traitant in régulation uses the médecin column (the MT columns have no régulation);
* a cell that does not exist (CPE or PE outside normal mode, indirect in break-glass, médecin du travail
  in AIR, a row missing from a matrix) is a refusal that says so;
* a TD the current matrices have no row for but which is still defined (TD1.3b, "restricted": only for DMPs
  not attached to Mon espace santé, reference §3.10) is decided by a **project rule** kept apart from the
  official tables (``rights_526_project.csv``, ``rights_606_project.csv``): normal access only, by
  professionals, staff and (526) the establishment certificate; never in emergency modes nor by the médecin
  du travail. Its explanations say "project rule".
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Final

from dmpclient.errors import DmpRightsPrecheckError, DmpValidationError

__all__ = [
    "OCCUPATIONAL_SPECIALTIES",
    "AccessMode",
    "CallerProfile",
    "Cell",
    "Decision",
    "Matrix",
    "MatrixActor",
    "MatrixRow",
    "Note",
    "NoteCondition",
    "RightsAction",
    "RightsMatrix",
    "access_mode_from_purpose",
    "actor_from_roles",
    "caller_column",
    "decide",
    "decide_for",
    "load_matrix",
    "matrix_for",
    "parse_matrix",
    "project_rules_for",
]


class Matrix(StrEnum):
    """The two official matrices (value = document number)."""

    DIRECT_INDIRECT = "526"
    AIR = "606"

    @property
    def edition(self) -> str:
        """Document number and version, as cited in explanations."""
        return "526 v1.8" if self is Matrix.DIRECT_INDIRECT else "606 v1.3"


class MatrixActor(StrEnum):
    """Column families of the matrices (reference §8.1, §8.2)."""

    PS_NON_MEDECIN = "PS_NON_MEDECIN"
    MEDECIN = "MEDECIN"
    MEDECIN_DU_TRAVAIL = "MEDECIN_DU_TRAVAIL"
    MEDECIN_TRAITANT = "MEDECIN_TRAITANT"
    CPE = "CPE"
    ES = "ES"
    PE = "PE"


class AccessMode(StrEnum):
    """Access mode; values are the VIHF PurposeOfUse codes (reference §2.9)."""

    NORMAL = "normal"
    REGULATION = "centre_15"
    BRIS_DE_GLACE = "bris_de_glace"


class NoteCondition(StrEnum):
    """What the mock must check when a cell or row carries a note."""

    OWN_DOCUMENTS = "OWN_DOCUMENTS"
    STRUCTURE_DOCUMENTS = "STRUCTURE_DOCUMENTS"
    PATIENT_ALLOWED_MASKED_IN_EMERGENCY = "PATIENT_ALLOWED_MASKED_IN_EMERGENCY"
    SAME_STRUCTURE_PS = "SAME_STRUCTURE_PS"
    NEW_AUTHORISATIONS_BY_DATE = "NEW_AUTHORISATIONS_BY_DATE"
    AUTHORISATION_TO_STRUCTURE = "AUTHORISATION_TO_STRUCTURE"
    AUTHORSHIP_TO_STRUCTURE = "AUTHORSHIP_TO_STRUCTURE"
    PATIENT_DOCUMENTS_MT_ONLY = "PATIENT_DOCUMENTS_MT_ONLY"
    DMP_NOT_ATTACHED_TO_MES = "DMP_NOT_ATTACHED_TO_MES"
    WITHDRAWN = "WITHDRAWN"
    INFORMATIVE = "INFORMATIVE"


class RightsAction(StrEnum):
    """The rows of the matrices (one per TD action)."""

    TD0_0_ACQUISITION_IDENTITE = "TD0_0_ACQUISITION_IDENTITE"
    TD0_1_AUTHENTIFICATION = "TD0_1_AUTHENTIFICATION"
    TD0_2_TEST_EXISTENCE = "TD0_2_TEST_EXISTENCE"
    TD0_3_SE_DECLARER_AUTORISE = "TD0_3_SE_DECLARER_AUTORISE"
    TD0_3_SUPPRIMER_AUTORISATION = "TD0_3_SUPPRIMER_AUTORISATION"
    TD0_3_SE_SUPPRIMER_MT = "TD0_3_SE_SUPPRIMER_MT"
    TD0_4_LISTE_DMP_AUTORISES = "TD0_4_LISTE_DMP_AUTORISES"
    TD0_5_RECHERCHE_SANS_INS = "TD0_5_RECHERCHE_SANS_INS"
    TD0_9_ACCES_WEB = "TD0_9_ACCES_WEB"
    TD0_10_ACCES_WEB_AIR = "TD0_10_ACCES_WEB_AIR"
    TD1_3A_CONSULTATION_ADMIN = "TD1_3A_CONSULTATION_ADMIN"
    TD1_3B_MODIFICATION_ADMIN = "TD1_3B_MODIFICATION_ADMIN"
    TD1_6_LISTE_PS_AUTORISES = "TD1_6_LISTE_PS_AUTORISES"
    TD2_1_ALIMENTATION = "TD2_1_ALIMENTATION"
    TD2_2_ALIMENTATION_CPE = "TD2_2_ALIMENTATION_CPE"
    TD3_1_RECHERCHE_METADONNEES = "TD3_1_RECHERCHE_METADONNEES"
    TD3_1_RECHERCHE_REFERENCE = "TD3_1_RECHERCHE_REFERENCE"
    TD3_2_DOCS_NON_MASQUES = "TD3_2_DOCS_NON_MASQUES"
    TD3_2_DOCS_MASQUES = "TD3_2_DOCS_MASQUES"
    TD3_2_DOCS_INVISIBLES_PATIENT = "TD3_2_DOCS_INVISIBLES_PATIENT"
    TD3_2_DOCS_ARCHIVES = "TD3_2_DOCS_ARCHIVES"
    TD3_2_DOCS_OBSOLETES = "TD3_2_DOCS_OBSOLETES"
    TD3_2_DOCS_SUPPRIMES = "TD3_2_DOCS_SUPPRIMES"
    TD3_3A_MASQUER = "TD3_3A_MASQUER"
    TD3_3A_DEMASQUER = "TD3_3A_DEMASQUER"
    TD3_3B_RENDRE_VISIBLE_PATIENT = "TD3_3B_RENDRE_VISIBLE_PATIENT"
    TD3_3D_ARCHIVER = "TD3_3D_ARCHIVER"
    TD3_3D_DESARCHIVER = "TD3_3D_DESARCHIVER"
    TD3_3C_SUPPRIMER = "TD3_3C_SUPPRIMER"


@dataclass(frozen=True, slots=True)
class Note:
    """A matrix note: its number (``*`` for the row-level asterisk), what to check, and the official text."""

    matrix: Matrix
    id: str
    condition: NoteCondition
    text: str


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell as printed: ``oui``, ``non`` or ``oui(N)``."""

    allowed: bool
    note: str | None

    def __str__(self) -> str:
        word = "oui" if self.allowed else "non"
        return f"{word}({self.note})" if self.note else word


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One row: the action, its TD, the official label, row-level notes and the cells by column."""

    action: RightsAction
    td: str
    label: str
    row_notes: tuple[str, ...]
    cells: dict[str, Cell]


@dataclass(frozen=True, slots=True)
class RightsMatrix:
    """A whole matrix: its columns in official order, rows by action, notes by id."""

    matrix: Matrix
    columns: tuple[str, ...]
    rows: dict[RightsAction, MatrixRow]
    notes: dict[str, Note]


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict for one call, with what explains it (matrix, row, column, cell, notes)."""

    allowed: bool
    notes: tuple[Note, ...]
    matrix: Matrix
    cell: str
    action: RightsAction
    td: str
    column: str
    reason: str
    #: the same explanation in French, for fault texts (the DMP answers in French)
    reason_fr: str = ""

    @property
    def conditions(self) -> frozenset[NoteCondition]:
        """The checks the caller still has to make when the cell is a conditional ``oui(N)``."""
        return frozenset(note.condition for note in self.notes)

    def require(self, *, message_id: str | None = None) -> Decision:
        """Return self if allowed, else raise :class:`DmpRightsPrecheckError` carrying the explanation."""
        if not self.allowed:
            raise DmpRightsPrecheckError(self.reason, td=self.td, message_id=message_id)
        return self


_AUTH_MODES: Final[dict[str, Matrix]] = {
    "DIRECTE": Matrix.DIRECT_INDIRECT,
    "INDIRECTE": Matrix.DIRECT_INDIRECT,
    "INDIRECTE_RENFORCEE": Matrix.AIR,
}
_EXPECTED_COLUMNS: Final[dict[Matrix, tuple[str, ...]]] = {
    Matrix.DIRECT_INDIRECT: (
        "PSNM_N", "PSNM_R", "PSNM_B", "MED_N", "MED_R", "MED_B", "MDT", "MT_N", "MT_B", "CPE", "ES_N", "ES_R",
    ),
    Matrix.AIR: ("PSNM_N", "PSNM_R", "PSNM_B", "MED_N", "MED_R", "MED_B", "MT_N", "MT_B", "PE"),
}  # fmt: skip
_COLUMN_LABELS: Final[dict[str, str]] = {
    "PSNM": "PS non médecin",
    "MED": "médecin",
    "MDT": "médecin du travail",
    "MT": "médecin traitant",
    "CPE": "CPE (personnel non PS)",
    "ES": "certificat ES (indirect)",
    "PE": "PE (personnel de la structure)",
}
_MODE_SUFFIX: Final[dict[AccessMode, str]] = {
    AccessMode.NORMAL: "N",
    AccessMode.REGULATION: "R",
    AccessMode.BRIS_DE_GLACE: "B",
}
_MODE_LABELS: Final[dict[str, str]] = {"N": "accès normal", "R": "régulation", "B": "bris de glace"}
_FAMILY: Final[dict[MatrixActor, str]] = {
    MatrixActor.PS_NON_MEDECIN: "PSNM",
    MatrixActor.MEDECIN: "MED",
    MatrixActor.MEDECIN_DU_TRAVAIL: "MDT",
    MatrixActor.MEDECIN_TRAITANT: "MT",
    MatrixActor.CPE: "CPE",
    MatrixActor.ES: "ES",
    MatrixActor.PE: "PE",
}
_CELL = re.compile(r"^(oui|non)(?:\(([0-9]+)\))?$")
_NUMERIC_PROFESSION = re.compile(r"^[0-9]{1,3}$")


def _auth_matrix(auth_mode: str) -> Matrix:
    try:
        return _AUTH_MODES[str(auth_mode)]
    except KeyError:
        raise DmpValidationError(
            f"auth_mode: expected DIRECTE, INDIRECTE or INDIRECTE_RENFORCEE (VIHF Authentification_mode), "
            f"got {auth_mode!r}",
            field="auth_mode",
        ) from None


def access_mode_from_purpose(purpose_of_use: str) -> AccessMode:
    """Map a VIHF PurposeOfUse code (``normal``, ``bris_de_glace``, ``centre_15``) to the access mode."""
    try:
        return AccessMode(purpose_of_use)
    except ValueError:
        raise DmpValidationError(
            f"purpose_of_use: expected normal, bris_de_glace or centre_15 (code system 1.2.250.1.213.1.1.4.248), "
            f"got {purpose_of_use!r}",
            field="purpose_of_use",
        ) from None


#: Savoir-faire codes that put a physician in the "médecin du travail" column of 526 (reference §8.3:
#: inferred; médecine du travail qualifications). Pass another set to :func:`caller_column` to change it.
OCCUPATIONAL_SPECIALTIES: Final = frozenset({"SM25", "SCH35", "C41"})


@dataclass(frozen=True, slots=True)
class CallerProfile:
    """What the rights column of a caller depends on, read from his VIHF (mock) or identity (client).

    Attributes:
        auth_mode: the VIHF ``Authentification_mode`` (``DIRECTE``, ``INDIRECTE``, ``INDIRECTE_RENFORCEE``).
        profession: the first role code (TRE_G15 profession, or a non-PS code such as ``SECRETARIAT_MEDICAL``).
        specialty: the second role code (savoir-faire), if any.
        purpose: the VIHF PurposeOfUse code (``normal``, ``bris_de_glace``, ``centre_15``).
        treating_physician: the caller is the patient's médecin traitant DMP (known to the DMP only).
    """

    auth_mode: str
    profession: str | None
    specialty: str | None
    purpose: str
    treating_physician: bool = False


def caller_column(
    profile: CallerProfile, *, occupational_specialties: frozenset[str] = OCCUPATIONAL_SPECIALTIES
) -> tuple[MatrixActor, AccessMode]:
    """The one derivation of a caller's matrix column (actor family and access mode), for client and mock.

    Raises:
        DmpValidationError: unknown authentication mode or purpose of use.
    """
    actor = actor_from_roles(
        profile.profession,
        is_treating_physician=profile.treating_physician,
        is_occupational_physician=profile.specialty in occupational_specialties,
        auth_mode=profile.auth_mode,
    )
    return actor, access_mode_from_purpose(profile.purpose)


def decide_for(
    action: RightsAction,
    profile: CallerProfile,
    *,
    occupational_specialties: frozenset[str] = OCCUPATIONAL_SPECIALTIES,
) -> Decision:
    """:func:`decide` for a caller described by his profile (the client pre-check and the mock gate)."""
    actor, access_mode = caller_column(profile, occupational_specialties=occupational_specialties)
    return decide(action, auth_mode=profile.auth_mode, actor=actor, access_mode=access_mode)


def actor_from_roles(
    profession_code: str | None,
    *,
    is_treating_physician: bool,
    is_occupational_physician: bool,
    auth_mode: str,
) -> MatrixActor:
    """Determine the matrix actor of a caller (reference §8.3, project design).

    Args:
        profession_code: the VIHF first role code (TRE_G15 profession, or a non-PS code); None for none.
        is_treating_physician: the mock's authorisation store says the caller is the patient's MT.
        is_occupational_physician: the caller practises as médecin du travail (configured savoir-faire).
        auth_mode: the VIHF ``Authentification_mode``.
    """
    matrix = _auth_matrix(auth_mode)
    if auth_mode == "INDIRECTE":
        return MatrixActor.ES
    code = (profession_code or "").strip()
    if not _NUMERIC_PROFESSION.fullmatch(code):
        return MatrixActor.PE if matrix is Matrix.AIR else MatrixActor.CPE
    if code != "10":
        return MatrixActor.PS_NON_MEDECIN
    if is_occupational_physician:
        return MatrixActor.MEDECIN_DU_TRAVAIL
    return MatrixActor.MEDECIN_TRAITANT if is_treating_physician else MatrixActor.MEDECIN


def _column(table: RightsMatrix, auth_mode: str, actor: MatrixActor, access_mode: AccessMode) -> str | None:
    """The column for this caller, or None when the matrix has no cell for this combination."""
    if auth_mode == "INDIRECTE":
        actor = MatrixActor.ES
    elif actor is MatrixActor.ES:
        return None
    elif actor is MatrixActor.MEDECIN_TRAITANT and access_mode is AccessMode.REGULATION:
        actor = MatrixActor.MEDECIN
    family = _FAMILY[actor]
    with_mode = f"{family}_{_MODE_SUFFIX[access_mode]}"
    if with_mode in table.columns:
        return with_mode
    if family in table.columns and (actor is MatrixActor.MEDECIN_DU_TRAVAIL or access_mode is AccessMode.NORMAL):
        return family
    return None


def _describe_column(column: str) -> str:
    family, _, mode = column.partition("_")
    label = _COLUMN_LABELS[family]
    return f"{column} ({label}, {_MODE_LABELS[mode]})" if mode else f"{column} ({label})"


def decide(action: RightsAction, *, auth_mode: str, actor: MatrixActor, access_mode: AccessMode) -> Decision:
    """Look up the matrix cell deciding ``action`` for this caller.

    Args:
        action: the matrix row.
        auth_mode: ``DIRECTE`` / ``INDIRECTE`` (matrix 526) or ``INDIRECTE_RENFORCEE`` (matrix 606).
        actor: from :func:`actor_from_roles`.
        access_mode: from :func:`access_mode_from_purpose`.

    Returns:
        The decision; ``conditions`` lists the note checks left to the caller (own documents…).

    Raises:
        DmpValidationError: unknown auth mode, actor, access mode or action.
    """
    matrix = _auth_matrix(auth_mode)
    action, actor, access_mode = _coerce(action, actor, access_mode)
    table = matrix_for(matrix)
    row = table.rows.get(action)
    where, where_fr = f"matrix {matrix.edition}", f"matrice {matrix.edition}"
    if row is None and action in project_rules_for(matrix).rows:
        table = project_rules_for(matrix)
        row = table.rows[action]
        where = f"project rule (no row in matrix {matrix.edition})"
        where_fr = f"règle du projet (pas de ligne dans la matrice {matrix.edition})"
    if row is None:
        reason = f"refused: {where} has no row for {action.value} (not available in {auth_mode})"
        reason_fr = f"la matrice {matrix.edition} ne prévoit pas {action.value} en authentification {auth_mode}"
        return Decision(False, (), matrix, "", action, _td_of(action), "", reason, reason_fr)
    column = _column(table, str(auth_mode), actor, access_mode)
    row_text = f"row {row.td} «{row.label}»"
    notes = tuple(table.notes[n] for n in row.row_notes)
    if column is None:
        shown = MatrixActor.ES if auth_mode == "INDIRECTE" else actor
        reason = (
            f"refused by {where}, {row_text}: no column for actor {shown.value} in {access_mode.value} access "
            f"with {auth_mode} authentication (columns: {', '.join(table.columns)})"
        )
        reason_fr = (
            f"{where_fr}, ligne {row.td} «{row.label}» : aucune colonne pour {shown.value} en mode "
            f"{access_mode.value} ({auth_mode})"
        )
        return Decision(False, notes, matrix, "", action, row.td, "", reason, reason_fr)
    cell = row.cells[column]
    if cell.note:
        notes = (table.notes[cell.note], *notes)
    verdict = "allowed" if cell.allowed else "refused"
    reason = f"{verdict} by {where}, {row_text}, column {_describe_column(column)}: {cell}"
    if notes:
        reason += " — " + "; ".join(f"note {n.id}: {n.text.rstrip('.')}" for n in notes)
    reason_fr = f"{where_fr}, ligne {row.td} «{row.label}», colonne {_describe_column(column)} : {cell}"
    if notes:
        reason_fr += " — " + "; ".join(f"note {n.id}" for n in notes)
    return Decision(cell.allowed, notes, matrix, str(cell), action, row.td, column, reason, reason_fr)


def _coerce(action: str, actor: str, access_mode: str) -> tuple[RightsAction, MatrixActor, AccessMode]:
    """Accept enum members or their string values; anything else is a clear validation error."""
    try:
        return RightsAction(action), MatrixActor(actor), AccessMode(access_mode)
    except ValueError as exc:
        raise DmpValidationError(f"rights decision: {exc}", field="rights") from None


def _td_of(action: RightsAction) -> str:
    """``TD3_3C_SUPPRIMER`` → ``TD3.3c`` (for rows absent from a matrix)."""
    major, minor = action.value.split("_")[:2]
    return f"{major}.{minor.lower()}"


def parse_matrix(matrix: Matrix, table_csv: str, notes_csv: str) -> RightsMatrix:
    """Parse and check one matrix (columns, cell syntax, note references); errors name the line."""
    notes = {
        row["id"]: Note(matrix, row["id"], NoteCondition(row["condition"]), row["text"])
        for row in csv.DictReader(io.StringIO(notes_csv))
        if row["matrix"] == matrix.value
    }
    reader = csv.DictReader(io.StringIO(table_csv))
    columns = tuple(reader.fieldnames or ())[4:]
    if columns != _EXPECTED_COLUMNS[matrix]:
        raise DmpValidationError(f"rights_{matrix.value}.csv: unexpected columns {columns}", field="rights")
    rows: dict[RightsAction, MatrixRow] = {}
    for line, record in enumerate(reader, start=2):
        where = f"rights_{matrix.value}.csv line {line}"
        try:
            action = RightsAction(record["action"])
        except ValueError:
            raise DmpValidationError(f"{where}: unknown action {record['action']!r}", field="rights") from None
        row_notes = tuple(record["row_notes"].split()) if record["row_notes"] else ()
        cells = {column: _parse_cell(record[column], where) for column in columns}
        referenced = [*row_notes, *(c.note for c in cells.values() if c.note)]
        missing = [n for n in referenced if n not in notes]
        if missing:
            raise DmpValidationError(f"{where}: notes {missing} are not defined", field="rights")
        rows[action] = MatrixRow(action, record["td"], record["label"], row_notes, cells)
    return RightsMatrix(matrix, columns, rows, notes)


def _parse_cell(text: str | None, where: str) -> Cell:
    match = _CELL.fullmatch((text or "").strip())
    if not match:
        raise DmpValidationError(f"{where}: cell {text!r} is not oui, non or oui(N)", field="rights")
    return Cell(match[1] == "oui", match[2])


def _package_text(name: str) -> str:
    return resources.files("dmpclient.data").joinpath(name).read_text(encoding="utf-8")


@cache
def load_matrix(matrix: Matrix) -> RightsMatrix:
    """The matrix from package data (loaded and checked once per process)."""
    return parse_matrix(matrix, _package_text(f"rights_{matrix.value}.csv"), _package_text("rights_notes.csv"))


@cache
def project_rules_for(matrix: Matrix) -> RightsMatrix:
    """The project's rows for TDs the official matrix has no row for (same format, kept apart; TD1.3b)."""
    return parse_matrix(matrix, _package_text(f"rights_{matrix.value}_project.csv"), _package_text("rights_notes.csv"))


def matrix_for(matrix: Matrix | str) -> RightsMatrix:
    """The matrix for ``"526"`` / ``"606"`` (or a :class:`Matrix` member)."""
    try:
        return load_matrix(Matrix(matrix))
    except ValueError:
        raise DmpValidationError(f"matrix: expected 526 or 606, got {matrix!r}", field="matrix") from None
