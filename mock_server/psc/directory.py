"""The mock provider's professionals: the mock DMP's seeded ones, with UserInfo claims shaped like PSC's.

The seed draws its professionals first from ``random.Random(seed)`` (:mod:`mock_server.seed.people`), so
the same seed gives the same people here as in the mock DMP's documents. Claims follow reference §11.3
(``SubjectNameID``, ``SubjectRefPro.exercices[].activities[]``, ``otherIds``, the VIHF-oriented flat claims).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from mock_server.seed.data import STRUCTURES, StructureSpec
from mock_server.seed.people import People

__all__ = ["PscUser", "seeded_directory"]

_STRUCTURES: Final = {s.id: s for s in STRUCTURES}
_SUB_NAMESPACE: Final = uuid.UUID("0b0e7a52-3c3f-4c56-9a43-5b0c2d7e8f10")
_PHARMACIST: Final = "21"


@dataclass(frozen=True, slots=True)
class PscUser:
    """A professional who can sign in at the mock provider."""

    ps_id: str
    family_name: str
    given_name: str
    profession: str
    savoir_faire: str | None
    label: str
    structures: tuple[StructureSpec, ...]

    def get_user_id(self) -> str:
        """authlib's user id: the ``sub``."""
        return self.sub

    @property
    def sub(self) -> str:
        """Opaque subject ``f:{uuid}:{idNat}`` as PSC shapes it (reference §11.3)."""
        return f"f:{uuid.uuid5(_SUB_NAMESPACE, self.ps_id)}:{self.ps_id}"

    def _activity(self, structure: StructureSpec) -> dict[str, Any]:
        return {
            "codeModeExercice": "S" if structure.practice_setting == "ETABLISSEMENT" else "L",
            "codeSecteurDactivite": structure.sector,
            "codeSectionPharmacien": self.savoir_faire if self.profession == _PHARMACIST else None,
            "codeRole": None,
            "codeGenreActivite": "GENR01",
            "identifiantTechniqueDeLaStructure": f"R{structure.id}",
            "ancienIdentifiantDeLaStructure": structure.id,
            "raisonSocialeSite": structure.name,
            "autoriteDenregistrement": "CNOM/CNOM/CNOM" if self.profession == "10" else "ARS/ARS/ARS",
        }

    def userinfo(self) -> dict[str, Any]:
        """The UserInfo document of scope ``scope_all``."""
        first = self.structures[0] if self.structures else None
        savoir_faire = None if self.profession == _PHARMACIST else self.savoir_faire
        return {
            "sub": self.sub,
            "SubjectNameID": self.ps_id,
            "preferred_username": self.ps_id,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "email_verified": False,
            "SubjectRefPro": {
                "codeCivilite": "DR" if self.profession == "10" else "M",
                "exercices": [
                    {
                        "codeProfession": self.profession,
                        "codeCategorieProfessionnelle": "C",
                        "codeCiviliteDexercice": "DR" if self.profession == "10" else "M",
                        "nomDexercice": self.family_name,
                        "prenomDexercice": self.given_name,
                        "codeTypeSavoirFaire": "S" if savoir_faire else None,
                        "codeSavoirFaire": savoir_faire,
                        "activities": [self._activity(s) for s in self.structures],
                    }
                ],
            },
            "otherIds": [{"identifiant": self.ps_id, "origine": "RPPS", "qualite": 1}],
            "SubjectOrganization": first.name if first else None,
            "SubjectOrganizationID": first.id if first else None,
            "SubjectRole": [f"{self.profession}^1.2.250.1.213.1.1.5.5"],
            "Secteur_Activite": f"{first.sector}^1.2.250.1.71.4.2.4" if first else None,
            "Palier_Authentification": "APPPRIP3^1.2.250.1.213.1.5.1.1.1",
            "PSI_Locale": "1.2.250.1.213.1.3.1.1",
            "Acces_Regulation_Medicale": "FAUX",
            "UITVersion": "1.0",
        }


def seeded_directory(random_seed: int = 1234) -> Mapping[str, PscUser]:
    """The seed's professionals by national id (same ``random_seed`` as ``dmp mock seed --seed``)."""
    people = People(random.Random(random_seed), datetime.now(UTC))  # noqa: S311 - fictitious data
    return {
        p.ps_id: PscUser(
            p.ps_id,
            p.family_name,
            p.given_name,
            p.spec.profession,
            p.spec.savoir_faire,
            p.spec.label,
            tuple(_STRUCTURES[s] for s in p.spec.structures if s in _STRUCTURES),
        )
        for p in people.make_professionals()
    }
