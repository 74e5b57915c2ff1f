"""Identifiers (reference §12): INS key properties, CX round trips, error messages that say what to fix."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmpclient.errors import DmpValidationError
from dmpclient.ids import (
    InsOid,
    format_cx,
    ins_key,
    make_ins,
    parse_cx,
    validate_ins,
    validate_oid,
    validate_ps_id,
    validate_structure_id,
)


@st.composite
def ins_bodies(draw: st.DrawFn) -> str:
    """13-character bodies: sex, year, month, department (digits or Corsica 2A/2B), commune, order."""
    sex = draw(st.sampled_from("123478"))
    year_month = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    department = draw(
        st.one_of(st.sampled_from(["2A", "2B", "2a", "2b"]), st.text("0123456789", min_size=2, max_size=2))
    )
    rest = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    return f"{sex}{year_month}{department}{rest}"


oids = st.one_of(
    st.sampled_from(list(InsOid)).map(str),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=2, max_size=12).map(lambda p: ".".join(map(str, p))),
)


@given(ins_bodies())
def test_a_body_with_its_key_is_a_valid_ins(body: str) -> None:
    ins = make_ins(body)
    assert len(ins) == 15
    assert validate_ins(ins) == ins.upper()
    assert 1 <= int(ins_key(body)) <= 97


@given(ins_bodies(), st.data())
def test_any_single_digit_change_invalidates_the_ins(body: str, data: st.DataObject) -> None:
    ins = make_ins(body).upper()
    positions = [i for i, ch in enumerate(ins) if ch.isdigit()]
    position = data.draw(st.sampled_from(positions))
    replacement = data.draw(st.sampled_from([d for d in "0123456789" if d != ins[position]]))
    changed = ins[:position] + replacement + ins[position + 1 :]
    with pytest.raises(DmpValidationError):
        validate_ins(changed)


@pytest.mark.parametrize("ins", ["188102B17295264", "207058575627097", "153078987658513", "255069999999934"])
def test_reference_examples_are_valid(ins: str) -> None:
    assert validate_ins(ins) == ins


def test_corsica_key_uses_19_and_18() -> None:
    assert ins_key("188102B172952") == "64"  # 1881018172952 mod 97 = 33 → 97 − 33
    assert make_ins("188102a172952") == make_ins("188102A172952")


def test_reference_counter_example_has_a_wrong_key_and_the_check_is_switchable() -> None:
    with pytest.raises(DmpValidationError, match="control key") as caught:
        validate_ins("288091720220371")
    assert caught.value.field == "ins"
    assert ins_key("2880917202203") == "68"
    assert validate_ins("288091720220371", check_key=False) == "288091720220371"


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("20705857562709", "15 characters"),
        ("2070585756270971", "15 characters"),
        ("20705X575627097", "digits only"),
        ("507058575627097", "digits only"),
        ("207058575627098", "control key"),
    ],
)
def test_ins_errors_say_what_to_fix(value: str, hint: str) -> None:
    with pytest.raises(DmpValidationError, match=hint) as caught:
        validate_ins(value, field="patient.ins")
    assert caught.value.field == "patient.ins"
    assert str(caught.value).startswith("patient.ins:")


@given(ins_bodies(), oids)
def test_cx_round_trip(body: str, oid: str) -> None:
    ins = make_ins(body)
    cx = format_cx(ins, oid)
    assert cx == f"{ins}^^^&{oid}&ISO^NH"
    assert parse_cx(cx) == (ins, oid)


def test_cx_of_the_reference() -> None:
    assert format_cx("207058575627097", InsOid.TEST) == "207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert [oid.value for oid in InsOid] == [
        "1.2.250.1.213.1.4.8",
        "1.2.250.1.213.1.4.9",
        "1.2.250.1.213.1.4.10",
        "1.2.250.1.213.1.4.11",
    ]


@pytest.mark.parametrize(
    "cx",
    ["207058575627097", "207058575627097^^^&1.2.250.1.213.1.4.10&ISO", "207058575627097^^^1.2.250&ISO^NH", ""],
)
def test_malformed_cx_says_the_expected_form(cx: str) -> None:
    with pytest.raises(DmpValidationError, match=r"ID\^\^\^&OID&ISO\^NH"):
        parse_cx(cx)


@pytest.mark.parametrize("oid", ["1.2.250.01", "1", "1..2", "a.b", "1.2."])
def test_bad_oids(oid: str) -> None:
    with pytest.raises(DmpValidationError, match="dotted decimal"):
        validate_oid(oid, field="oid")


@settings(max_examples=50)
@given(oids)
def test_good_oids(oid: str) -> None:
    assert validate_oid(oid) == oid


@pytest.mark.parametrize("ps_id", ["899900063480", "899700366240", "010078512", "3100000000/LOCAL1"])
def test_ps_ids(ps_id: str) -> None:
    assert validate_ps_id(ps_id) == ps_id


@pytest.mark.parametrize("ps_id", ["799900063480", "", "8"])
def test_bad_ps_ids_name_the_prefixes(ps_id: str) -> None:
    with pytest.raises(DmpValidationError, match="starts with 0, 1, 3, 4, 5, 6 or 8"):
        validate_ps_id(ps_id)


@pytest.mark.parametrize("sid", ["10B0127189", "499900063480001", "10B0041968"])
def test_structure_ids(sid: str) -> None:
    assert validate_structure_id(sid) == sid


@pytest.mark.parametrize("sid", ["", "9ABCDEF", "1"])
def test_bad_structure_ids_show_an_example(sid: str) -> None:
    with pytest.raises(DmpValidationError, match="10B0127189"):
        validate_structure_id(sid)
