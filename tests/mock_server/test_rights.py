"""Rights matrices 526 / 606 as data: every cell against the reference tables, decisions, actor mapping."""

from __future__ import annotations

import re

import pytest

from dmpclient.errors import DmpRightsPrecheckError, DmpValidationError
from dmpclient.transactions.rights import (
    AccessMode,
    Matrix,
    MatrixActor,
    NoteCondition,
    RightsAction,
    access_mode_from_purpose,
    actor_from_roles,
    decide,
    load_matrix,
    matrix_for,
    parse_matrix,
)
from tests.conftest import SHARED

N, R, B = AccessMode.NORMAL, AccessMode.REGULATION, AccessMode.BRIS_DE_GLACE
AIR = "INDIRECTE_RENFORCEE"


def _allowed(action: RightsAction, auth_mode: str, actor: MatrixActor, access_mode: AccessMode) -> bool:
    return decide(action, auth_mode=auth_mode, actor=actor, access_mode=access_mode).allowed


def _reference_table(heading: str) -> list[list[str]]:
    """The data rows of the markdown table under ``heading`` in the shared reference (cells normalised)."""
    text = (SHARED / "reference" / "dmp-interface.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n### ", 1)[0]
    rows = []
    for raw in section.splitlines():
        line = raw.replace("**", "")
        if not line.startswith("| TD") or line.startswith("| TD |"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append([_normalise(c) for c in cells])
    return rows


def _normalise(cell: str) -> str:
    cell = cell.replace("*", "").strip()
    if cell.startswith("~~"):  # TD0.0, struck out: withdrawn, so refused
        return "non"
    return re.sub(r"\s+\(", "(", cell)


@pytest.mark.parametrize(
    ("matrix", "heading"),
    [(Matrix.DIRECT_INDIRECT, "### 8.1 Direct / indirect matrix"), (Matrix.AIR, "### 8.2 AIR matrix")],
)
def test_every_cell_matches_the_reference_table(matrix: Matrix, heading: str) -> None:
    table = load_matrix(matrix)
    reference = _reference_table(heading)
    rows = list(table.rows.values())
    assert len(rows) == len(reference)
    for row, ref in zip(rows, reference, strict=True):
        assert row.td.rstrip("ab") == ref[0].rstrip("ab"), row.action
        assert [str(row.cells[c]) for c in table.columns] == ref[2:], row.action


def test_hand_checked_cells() -> None:
    air, direct = load_matrix(Matrix.AIR), load_matrix(Matrix.DIRECT_INDIRECT)
    assert all(not cell.allowed for cell in air.rows[RightsAction.TD2_1_ALIMENTATION].cells.values())
    td05 = direct.rows[RightsAction.TD0_5_RECHERCHE_SANS_INS].cells
    assert sorted(c for c, cell in td05.items() if cell.allowed) == ["ES_R", "MED_R", "PSNM_R"]
    assert str(direct.rows[RightsAction.TD3_3C_SUPPRIMER].cells["ES_N"]) == "oui(9)"
    assert str(direct.rows[RightsAction.TD3_2_DOCS_MASQUES].cells["MDT"]) == "non"
    assert str(air.rows[RightsAction.TD3_3C_SUPPRIMER].cells["PE"]) == "oui(9)"
    assert direct.rows[RightsAction.TD3_3D_ARCHIVER].row_notes == ("*",)


def test_every_note_has_a_condition_and_text() -> None:
    for matrix in Matrix:
        for note in matrix_for(matrix.value).notes.values():
            assert note.text
            assert isinstance(note.condition, NoteCondition)


def test_direct_allowed_with_note() -> None:
    decision = decide(RightsAction.TD3_2_DOCS_MASQUES, auth_mode="DIRECTE", actor=MatrixActor.MEDECIN, access_mode=N)
    assert decision.allowed
    assert (decision.matrix, decision.column, decision.cell) == (Matrix.DIRECT_INDIRECT, "MED_N", "oui(6)")
    assert decision.conditions == {NoteCondition.OWN_DOCUMENTS}


def test_direct_refused_explains_itself() -> None:
    decision = decide(
        RightsAction.TD3_2_DOCS_MASQUES, auth_mode="DIRECTE", actor=MatrixActor.MEDECIN_DU_TRAVAIL, access_mode=N
    )
    assert not decision.allowed
    assert "526 v1.8" in decision.reason
    assert "TD3.2" in decision.reason
    assert "MDT" in decision.reason
    with pytest.raises(DmpRightsPrecheckError) as caught:
        decision.require(message_id="urn:uuid:1")
    assert caught.value.td == "TD3.2"
    assert caught.value.message_id == "urn:uuid:1"


def test_indirect_uses_the_es_column_whatever_the_actor() -> None:
    decision = decide(RightsAction.TD3_3C_SUPPRIMER, auth_mode="INDIRECTE", actor=MatrixActor.MEDECIN, access_mode=N)
    assert decision.allowed
    assert decision.column == "ES_N"
    assert decision.conditions == {NoteCondition.STRUCTURE_DOCUMENTS, NoteCondition.PATIENT_DOCUMENTS_MT_ONLY}
    refused = decide(RightsAction.TD3_2_DOCS_NON_MASQUES, auth_mode="INDIRECTE", actor=MatrixActor.ES, access_mode=N)
    assert not refused.allowed
    no_bdg = decide(RightsAction.TD0_2_TEST_EXISTENCE, auth_mode="INDIRECTE", actor=MatrixActor.ES, access_mode=B)
    assert not no_bdg.allowed
    assert "no column" in no_bdg.reason


def test_air_allowed_and_refused() -> None:
    allowed = decide(
        RightsAction.TD3_1_RECHERCHE_METADONNEES, auth_mode=AIR, actor=MatrixActor.PS_NON_MEDECIN, access_mode=R
    )
    assert allowed.allowed
    assert allowed.matrix is Matrix.AIR
    refused = decide(RightsAction.TD2_1_ALIMENTATION, auth_mode=AIR, actor=MatrixActor.MEDECIN_TRAITANT, access_mode=N)
    assert not refused.allowed
    assert "606 v1.3" in refused.reason
    assert refused.cell == "non"
    pe = decide(RightsAction.TD0_3_SE_DECLARER_AUTORISE, auth_mode=AIR, actor=MatrixActor.PE, access_mode=N)
    assert pe.conditions == {NoteCondition.AUTHORISATION_TO_STRUCTURE}


def test_td05_only_in_regulation() -> None:
    action = RightsAction.TD0_5_RECHERCHE_SANS_INS
    assert not _allowed(action, "DIRECTE", MatrixActor.MEDECIN, N)
    assert not _allowed(action, "DIRECTE", MatrixActor.MEDECIN, B)
    assert _allowed(action, "DIRECTE", MatrixActor.MEDECIN, R)
    assert _allowed(action, "INDIRECTE", MatrixActor.ES, R)
    assert _allowed(action, AIR, MatrixActor.PS_NON_MEDECIN, R)


def test_rows_missing_from_a_matrix_are_refused() -> None:
    decision = decide(RightsAction.TD0_9_ACCES_WEB, auth_mode=AIR, actor=MatrixActor.MEDECIN, access_mode=N)
    assert not decision.allowed
    assert decision.td == "TD0.9"
    assert "no row" in decision.reason
    assert _allowed(RightsAction.TD0_10_ACCES_WEB_AIR, AIR, MatrixActor.MEDECIN, N)


def test_treating_physician_in_regulation_uses_the_medecin_column() -> None:
    decision = decide(
        RightsAction.TD3_3D_ARCHIVER, auth_mode="DIRECTE", actor=MatrixActor.MEDECIN_TRAITANT, access_mode=R
    )
    assert decision.column == "MED_R"
    assert decision.allowed


def test_staff_only_in_normal_mode_and_no_occupational_physician_in_air() -> None:
    existence = RightsAction.TD0_2_TEST_EXISTENCE
    assert not _allowed(existence, "DIRECTE", MatrixActor.CPE, B)
    assert not _allowed(existence, AIR, MatrixActor.MEDECIN_DU_TRAVAIL, N)
    assert not _allowed(existence, "DIRECTE", MatrixActor.PE, N)
    assert _allowed(RightsAction.TD1_6_LISTE_PS_AUTORISES, "DIRECTE", MatrixActor.MEDECIN_DU_TRAVAIL, B)


@pytest.mark.parametrize(
    ("profession", "mt", "mdt", "mode", "expected"),
    [
        ("10", False, False, "DIRECTE", MatrixActor.MEDECIN),
        ("10", True, False, "INDIRECTE_RENFORCEE", MatrixActor.MEDECIN_TRAITANT),
        ("10", True, True, "DIRECTE", MatrixActor.MEDECIN_DU_TRAVAIL),
        ("60", True, False, "DIRECTE", MatrixActor.PS_NON_MEDECIN),
        ("21", False, False, "INDIRECTE_RENFORCEE", MatrixActor.PS_NON_MEDECIN),
        ("SECRETARIAT_MEDICAL", False, False, "DIRECTE", MatrixActor.CPE),
        ("SECRETARIAT_MEDICAL", False, False, "INDIRECTE_RENFORCEE", MatrixActor.PE),
        (None, False, False, "INDIRECTE_RENFORCEE", MatrixActor.PE),
        ("10", True, False, "INDIRECTE", MatrixActor.ES),
    ],
)
def test_actor_from_roles(profession: str | None, mt: bool, mdt: bool, mode: str, expected: MatrixActor) -> None:
    actor = actor_from_roles(profession, is_treating_physician=mt, is_occupational_physician=mdt, auth_mode=mode)
    assert actor is expected


def test_access_mode_from_purpose() -> None:
    assert access_mode_from_purpose("normal") is N
    assert access_mode_from_purpose("centre_15") is R
    assert access_mode_from_purpose("bris_de_glace") is B


def test_unknown_values_raise_clearly() -> None:
    with pytest.raises(DmpValidationError, match="INDIRECTE_RENFORCEE") as caught:
        decide(RightsAction.TD0_1_AUTHENTIFICATION, auth_mode="CARTE", actor=MatrixActor.MEDECIN, access_mode=N)
    assert caught.value.field == "auth_mode"
    with pytest.raises(DmpValidationError, match="centre_15"):
        access_mode_from_purpose("urgence")
    with pytest.raises(DmpValidationError, match="INFIRMIER"):
        decide(RightsAction.TD0_1_AUTHENTIFICATION, auth_mode="DIRECTE", actor="INFIRMIER", access_mode=N)  # type: ignore[arg-type]
    with pytest.raises(DmpValidationError, match="TD9"):
        decide("TD9_9_NOPE", auth_mode="DIRECTE", actor=MatrixActor.MEDECIN, access_mode=N)  # type: ignore[arg-type]
    with pytest.raises(DmpValidationError):
        actor_from_roles("10", is_treating_physician=False, is_occupational_physician=False, auth_mode="directe")
    with pytest.raises(DmpValidationError, match="526 or 606"):
        matrix_for("527")


def test_malformed_matrix_data_names_the_line() -> None:
    notes = "matrix,id,condition,text\n606,1,INFORMATIVE,x\n"
    header = "action,td,label,row_notes,PSNM_N,PSNM_R,PSNM_B,MED_N,MED_R,MED_B,MT_N,MT_B,PE\n"
    good = "TD0_1_AUTHENTIFICATION,TD0.1,x,," + ",".join(["oui"] * 9) + "\n"
    assert parse_matrix(Matrix.AIR, header + good, notes).rows
    with pytest.raises(DmpValidationError, match=r"line 2.*peut-être"):
        parse_matrix(Matrix.AIR, header + good.replace("oui,oui\n", "oui,peut-être\n"), notes)
    with pytest.raises(DmpValidationError, match=r"line 2: notes \['7'\]"):
        parse_matrix(Matrix.AIR, header + good.replace("oui\n", "oui(7)\n"), notes)
    with pytest.raises(DmpValidationError, match="unexpected columns"):
        parse_matrix(Matrix.DIRECT_INDIRECT, header + good, notes)
