"""Numbers and times a hostile peer writes: decoders read them as "unknown", never crash with a ValueError.

The fuzz contract is that only :class:`~dmpclient.errors.DmpError` leaves a decoder. ``str.isdigit`` accepts
``'²'`` (and ``int`` refuses it), ``int`` refuses more than 4,300 digits, and a DTM near year 1 or 9999 with an
offset overflows the calendar: each input below crashed a decoder (or ``dmp inspect``) before. The answers are
hand-written from the reference (§3.6, §4.4, §4.8) with one hostile value put where a number is expected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmpclient import inspection
from dmpclient._xml import parse_untrusted
from dmpclient.errors import DmpValidationError
from dmpclient.hl7v3.pdq import parse_search, parse_search_response
from dmpclient.ids import parse_decimal, validate_ins
from dmpclient.inspection import inspect_message
from dmpclient.soap.envelope import build_response
from dmpclient.transactions import registry
from dmpclient.xds.cda import read_cda_header
from dmpclient.xds.identifiers import parse_dtm
from dmpclient.xds.results import read_query_response

VECTORS = Path(__file__).parent.parent / "vectors"
#: Non-ASCII digits ``isdigit`` accepts, a number ``int`` refuses to read, a number too long for any count.
HOSTILE_NUMBERS = ("²", "1²", "٣", "9" * 4301, "9" * 19)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        (" 12\n", 12),
        ("0", 0),
        ("9" * 18, int("9" * 18)),
        ("", None),
        (None, None),
        ("-3", None),
        ("+3", None),
        ("1_000", None),
        ("1 000", None),
        ("0x10", None),
        ("²", None),
        ("٣", None),
        ("9" * 19, None),
        ("9" * 4301, None),
    ],
)
def test_decimal_numbers_are_ascii_digits_of_bounded_length(text: str | None, expected: int | None) -> None:
    assert parse_decimal(text) == expected


def test_signed_decimal_numbers() -> None:
    assert parse_decimal("-3", signed=True) == -3
    assert parse_decimal("--3", signed=True) is None
    assert parse_decimal("-", signed=True) is None
    assert parse_decimal("1234567890", max_digits=9) is None


@given(st.text(alphabet=st.sampled_from("0123456789-+ _²٣\u0660x"), max_size=25) | st.text(max_size=25))
def test_parse_decimal_never_raises_and_reads_ascii_digits_only(text: str) -> None:
    value = parse_decimal(text, signed=True)
    if value is not None:
        assert text.strip().isascii()
        assert f"{value:d}".lstrip("-").zfill(len(text.strip().lstrip("-"))) == text.strip().lstrip("-")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("99991231235959-0100", None),  # one hour after 9999-12-31 23:59:59 UTC
        ("00010101000000+0100", None),  # one hour before year 1
        ("99991231225959-0100", dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)),
        ("20240315101500+0100", dt.datetime(2024, 3, 15, 9, 15, tzinfo=dt.UTC)),
        ("٢٠٢٤0315", None),  # Arabic-Indic digits are not a DTM
    ],
)
def test_dtm_offsets_outside_the_calendar_give_none(text: str, expected: dt.datetime | None) -> None:
    assert parse_dtm(text) == expected


_YEARS = st.sampled_from(["0001", "9999", "0000"]) | st.from_regex(r"[0-9]{4}", fullmatch=True)
_REST = st.from_regex(r"(?:[0-9]{2}){0,5}(?:\.[0-9]{1,4})?", fullmatch=True) | st.just("1231235959")
_OFFSETS = st.sampled_from(["", "+1400", "-1400", "+9999", "-9959"]) | st.from_regex(r"[+-][0-9]{4}", fullmatch=True)


@given(st.builds("".join, st.tuples(_YEARS, _REST, _OFFSETS)))
def test_parse_dtm_never_raises(text: str) -> None:
    moment = parse_dtm(text)
    assert moment is None or moment.tzinfo is dt.UTC


def _query_answer(*, count: str = "2", size: str = "4", version: str = "1") -> bytes:
    data = (VECTORS / "xds" / "find_documents_dmp_style.xml").read_bytes()
    data = data.replace(b'totalResultCount="2"', f'totalResultCount="{count}"'.encode(), 1)
    size_slot = b'<rim:Slot name="size"><rim:ValueList><rim:Value>4</rim:Value>'
    assert size_slot in data
    data = data.replace(size_slot, size_slot.replace(b">4<", f">{size}<".encode()), 1)
    return data.replace(b'<rim:VersionInfo versionName="1"/>', f'<rim:VersionInfo versionName="{version}"/>'.encode())


@pytest.mark.parametrize("hostile", HOSTILE_NUMBERS)
def test_query_answers_with_hostile_counts_sizes_and_versions(hostile: str) -> None:
    result = read_query_response(parse_untrusted(_query_answer(count=hostile, size=hostile, version=hostile)))
    assert result.total_result_count is None
    first = result.documents[0]
    assert first.size is None
    assert first.version == hostile
    assert first.version_number is None


def test_query_answer_numbers_still_read() -> None:
    result = read_query_response(parse_untrusted(_query_answer()))
    assert (result.total_result_count, result.documents[0].size, result.documents[0].version_number) == (2, 4, 1)


def _cda(version: str, effective: str) -> bytes:
    return f"""<ClinicalDocument xmlns="urn:hl7-org:v3">
  <id root="1.2.250.1.999.1.1" extension="DOC-1"/>
  <effectiveTime value="{effective}"/>
  <setId root="1.2.250.1.999.1.2" extension="SET-1"/>
  <versionNumber value="{version}"/>
</ClinicalDocument>""".encode()


@pytest.mark.parametrize("hostile", HOSTILE_NUMBERS)
def test_cda_header_with_a_hostile_version_and_time(hostile: str) -> None:
    header = read_cda_header(_cda(hostile, "99991231235959-0100"))
    assert (header.version_number, header.effective_time) == (None, None)
    assert read_cda_header(_cda("3", "20240315101500+0100")).version_number == 3


def _pdq_answer(total: str, score: str) -> bytes:
    data = (VECTORS / "hl7v3" / "td05_two_candidates.xml").read_bytes()
    data = data.replace(b'<resultTotalQuantity value="3"/>', f'<resultTotalQuantity value="{total}"/>'.encode())
    return data.replace(b'<value xsi:type="INT" value="100"/>', f'<value xsi:type="INT" value="{score}"/>'.encode())


@pytest.mark.parametrize("hostile", HOSTILE_NUMBERS)
def test_pdq_answer_with_hostile_quantities_and_scores(hostile: str) -> None:
    result = parse_search_response(parse_untrusted(_pdq_answer(hostile, hostile)))
    assert (result.total, result.remaining) == (None, 1)
    assert [c.match_score for c in result.candidates] == [None, 80]


def test_pdq_answer_signed_values_still_read() -> None:
    result = parse_search_response(parse_untrusted(_pdq_answer("3", "-5")))
    assert (result.total, result.candidates[0].match_score) == (3, -5)


def _pdq_query(quantity: str) -> bytes:
    return f"""<PRPA_IN201305UV02 xmlns="urn:hl7-org:v3" ITSVersion="XML_1.0">
  <id root="1.2.250.1.999.2" extension="M-1"/>
  <interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201305UV02"/>
  <controlActProcess classCode="CACT" moodCode="EVN">
    <queryByParameter>
      <queryId root="1.2.250.1.999.2" extension="Q-1"/>
      <initialQuantity value="{quantity}"/>
      <parameterList>
        <livingSubjectName><value><family>MARTIN</family></value></livingSubjectName>
      </parameterList>
    </queryByParameter>
  </controlActProcess>
</PRPA_IN201305UV02>""".encode()


@pytest.mark.parametrize("hostile", HOSTILE_NUMBERS)
def test_pdq_query_with_a_hostile_initial_quantity(hostile: str) -> None:
    assert parse_search(parse_untrusted(_pdq_query(hostile))).search.max_results is None
    assert parse_search(parse_untrusted(_pdq_query("5"))).search.max_results == 5


def _envelope(body: bytes, action: str) -> bytes:
    return build_response(parse_untrusted(body), action=action, relates_to="urn:uuid:1", message_id=None)


@pytest.mark.parametrize("hostile", HOSTILE_NUMBERS)
def test_inspect_reads_a_hostile_query_answer(hostile: str) -> None:
    message = _envelope(_query_answer(count=hostile, size=hostile), registry.STORED_QUERY.response_action)
    found = inspect_message(message)
    assert (found.kind, found.error) == ("response", None)
    assert found.result is not None
    assert found.result["total_result_count"] is None


def _crash(_: Any) -> Any:
    raise ValueError("a decoder bug")


def test_inspect_reports_a_decoder_crash_as_an_unreadable_message(monkeypatch: pytest.MonkeyPatch) -> None:
    crashing = dataclasses.replace(registry.STORED_QUERY, decode=_crash, read_request=_crash)
    monkeypatch.setattr(inspection, "SPECS", (crashing,))
    answer = inspect_message(_envelope(_query_answer(), crashing.response_action))
    assert answer.result is None
    assert answer.error == {
        "type": "DmpProtocolError",
        "message": "TD3.1: the message could not be read (ValueError)",
    }
    query = b'<q:AdhocQueryRequest xmlns:q="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"/>'
    request = inspect_message(_envelope(query, crashing.request_action))
    assert request.kind == "request"
    assert request.error is not None
    assert request.error["message"] == "TD3.1: the message could not be read (ValueError)"


def test_an_ins_key_in_other_digits_is_refused_even_without_the_key_check() -> None:
    with pytest.raises(DmpValidationError, match="digits only"):
        validate_ins("2070585756270²7", check_key=False)
    assert validate_ins("207058575627097", check_key=False) == "207058575627097"
