"""``patientsPDQ`` service of the mock: TD0.5 (recherche d'un patient sans INS, régulation only).

The gate already refused every access mode but régulation (526/606). Candidates are scored by
:mod:`mock_server.domain.patient_search`, best first, at most ``initialQuantity`` (20 by default) returned.
A search whose names normalise to (almost) nothing is a Sender fault (it would match everyone; the DMP's own
answer is not public).
"""

from __future__ import annotations

from typing import Final

from dmpclient.hl7v3.pdq import PatientCandidate, build_search_response, parse_search
from dmpclient.hl7v3.person import Address
from dmpclient.transactions import patients
from mock_server.context import Reply, RequestContext
from mock_server.domain.patient_search import match_score, search_problem
from mock_server.errors import MockFault
from mock_server.handlers.patients import administrative_record
from mock_server.routing import Route
from mock_server.store.records import Patient

__all__ = ["ROUTES"]

DEFAULT_RESULTS: Final = 20
_IDENTITY_TRAITS: Final = ("family", "birth_family", "given_names", "prefix", "gender", "birth_time")


def _candidate(patient: Patient, score: int) -> PatientCandidate:
    record = administrative_record(patient)
    traits = {name: getattr(record, name) for name in _IDENTITY_TRAITS}
    return PatientCandidate(
        status=record.status,
        ins=record.ins,
        ins_oid=record.ins_oid,
        ins_c=record.ins_c,
        match_score=score,
        opposition_acces_urgence=patient.opposition_acces_urgence,
        addresses=tuple(Address(postal_code=a.postal_code, city=a.city) for a in record.addresses),  # §3.6
        **traits,
    )


def _search(ctx: RequestContext) -> Reply:
    query = parse_search(ctx.body)
    problem = search_problem(query.search)
    if problem is not None:
        raise MockFault(None, f"Recherche TD0.5 invalide : {problem}")
    scored = [
        (score, patient)
        for patient in ctx.store.list_patients()
        if (score := match_score(query.search, patient)) is not None
    ]
    scored.sort(key=lambda pair: (-pair[0], pair[1].family_name, pair[1].ins))
    page = scored[: query.search.max_results or DEFAULT_RESULTS]
    candidates = [_candidate(patient, score) for score, patient in page]
    body = build_search_response(query, candidates, total=len(scored), response_id=ctx.new_id(), now=ctx.now)
    return Reply(body, detail=f"found={len(scored)}")


ROUTES: Final = (Route(patients.SEARCH_PATIENTS, _search),)
