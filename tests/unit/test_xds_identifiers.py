"""HL7 v2 data types of XDS metadata: CX, XCN, XON, DTM — hand-written vectors and round trips."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmpclient.errors import DmpValidationError
from dmpclient.xds.identifiers import Cx, Xcn, Xon, escape, format_dtm, parse_dtm, unescape

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


def test_cx_of_a_dmp_patient() -> None:
    cx = Cx.parse("207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH")
    assert (cx.id, cx.assigning_authority, cx.id_type, cx.effective_date) == (
        "207058575627097",
        "1.2.250.1.213.1.4.10",
        "NH",
        "",
    )
    assert str(cx) == "207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert str(Cx.patient("207058575627097", "1.2.250.1.213.1.4.10")) == str(cx)


def test_cx_with_the_date_of_feeding_examples_matches_on_id_and_authority_only() -> None:
    dated = Cx.parse("207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH^^20240315")
    assert dated.effective_date == "20240315"
    assert dated.same_identity(Cx.patient("207058575627097", "1.2.250.1.213.1.4.10"))
    assert not dated.same_identity(Cx.patient("207058575627097", "1.2.250.1.213.1.4.8"))
    assert str(dated).endswith("^NH^^20240315")


def test_cx_repr_hides_the_ins() -> None:
    assert "207058575627097" not in repr(Cx.patient("207058575627097", "1.2.250.1.213.1.4.10"))


def test_xcn_of_a_professional_and_of_the_swiss_capture() -> None:
    ps = Xcn.parse("899900063480^LIBRE^MAX^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS")
    assert (ps.id, ps.family, ps.given, ps.assigning_authority, ps.name_type, ps.id_type) == (
        "899900063480",
        "LIBRE",
        "MAX",
        "1.2.250.1.71.4.2.1",
        "D",
        "IDNPS",
    )
    assert str(ps) == "899900063480^LIBRE^MAX^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
    swiss = Xcn.parse("^Max^Mustermann^^^Dr.Med")
    assert (swiss.id, swiss.family, swiss.given, swiss.prefix) == ("", "Max", "Mustermann", "Dr.Med")
    assert swiss.name == "Dr.Med Mustermann Max"


def test_xon_of_a_structure_and_the_older_xon3_form() -> None:
    xon = Xon.parse("CABINET DR LIBRE^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^499900063480001")
    assert (xon.name, xon.assigning_authority, xon.id_type, xon.id) == (
        "CABINET DR LIBRE",
        "1.2.250.1.71.4.2.2",
        "IDNST",
        "499900063480001",
    )
    assert str(xon) == "CABINET DR LIBRE^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^499900063480001"
    assert Xon.parse("HOPITAL^^12345").id == "12345"


def test_delimiters_inside_values_are_escaped_and_cannot_shift_components() -> None:
    xon = Xon(name="A^B & C|D~E\\F", assigning_authority="1.2.3", id_type="IDNST", id="9")
    text = str(xon)
    assert text.startswith("A\\S\\B \\T\\ C\\F\\D\\R\\E\\E\\F^")
    assert Xon.parse(text) == xon


def test_escape_sequences_follow_hl7_v2() -> None:
    assert escape("a^b&c") == "a\\S\\b\\T\\c"
    assert unescape("a\\S\\b\\T\\c\\E\\") == "a^b&c\\"
    assert unescape("unknown \\X0D\\ kept") == "unknown \\X0D\\ kept"


NAMES = TEXT.map(str.strip)  # the whole value is stripped on input: no leading / trailing blanks


@given(
    st.builds(
        Xcn,
        id=NAMES,
        family=NAMES,
        given=NAMES,
        further_given=NAMES,
        suffix=NAMES,
        prefix=NAMES,
        degree=NAMES,
        assigning_authority=NAMES,
        name_type=NAMES,
        id_type=NAMES,
    )
)
def test_xcn_round_trips_whatever_the_text(person: Xcn) -> None:
    assert Xcn.parse(str(person)) == person


@given(st.builds(Cx, id=NAMES, assigning_authority=NAMES, id_type=NAMES))
def test_cx_round_trips_whatever_the_text(cx: Cx) -> None:
    assert Cx.parse(str(cx)) == cx


@given(st.builds(Xon, name=NAMES, assigning_authority=NAMES, id_type=NAMES, id=NAMES))
def test_xon_round_trips_whatever_the_text(xon: Xon) -> None:
    assert Xon.parse(str(xon)) == xon


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240315101500", dt.datetime(2024, 3, 15, 10, 15, tzinfo=dt.UTC)),
        ("202403151015", dt.datetime(2024, 3, 15, 10, 15, tzinfo=dt.UTC)),
        ("20240315", dt.datetime(2024, 3, 15, tzinfo=dt.UTC)),
        ("2024", dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
        ("20240315101500.123", dt.datetime(2024, 3, 15, 10, 15, tzinfo=dt.UTC)),
        ("20240315101500+0100", dt.datetime(2024, 3, 15, 9, 15, tzinfo=dt.UTC)),
        ("20240315101500-0230", dt.datetime(2024, 3, 15, 12, 45, tzinfo=dt.UTC)),
    ],
)
def test_dtm_precisions_and_offsets(text: str, expected: dt.datetime) -> None:
    assert parse_dtm(text) == expected


@pytest.mark.parametrize("text", ["", "2024-03-15", "20241315", "2024031", "yesterday", "20240230"])
def test_malformed_dtm_is_none(text: str) -> None:
    assert parse_dtm(text) is None


def test_times_are_written_in_utc_and_naive_ones_refused() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    assert format_dtm(dt.datetime(2024, 3, 15, 10, 15, 30, tzinfo=paris)) == "20240315091530"
    with pytest.raises(DmpValidationError, match="timezone-aware"):
        format_dtm(dt.datetime(2024, 3, 15))
