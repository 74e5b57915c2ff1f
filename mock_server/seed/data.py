"""Static facts behind the mock's seed: public test identities (reference §12.5), structures, professionals.

Names of generated people come from our own lists below. Public test patients keep the names the
reference gives; the others get generated names. Structures other than the public test ones, and every
generated professional, are fictitious.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from dmpclient.codes import Code
from dmpclient.ids import InsOid

__all__ = [
    "ADDITIONAL_LOCATORS",
    "BIRTH_PLACES_ABROAD",
    "CITIES",
    "FAMILY_NAMES",
    "FEMALE_NAMES",
    "MALE_NAMES",
    "PROFESSIONALS",
    "PUBLIC_PATIENTS",
    "STREETS",
    "STRUCTURES",
    "TEST_PS_ID",
    "TEST_STRUCTURE_ID",
    "ProfessionalSpec",
    "PublicPatient",
    "StructureSpec",
    "specialty_code",
]

#: The public test PS (MAX LIBRE, médecin SM26) and test organisation of reference §12.5.
TEST_PS_ID: Final = "899900063480"
TEST_STRUCTURE_ID: Final = "10B0127189"
_SPECIALTY_SCHEME: Final = "1.2.250.1.213.1.1.4.5"


@dataclass(frozen=True, slots=True)
class PublicPatient:
    """A public test INS with what the reference says of it; ``role`` tells the seed how to set it up."""

    ins: str
    oid: str
    family_name: str | None
    given_name: str | None
    role: str
    birth_name: str | None = None


PUBLIC_PATIENTS: Final = (
    PublicPatient("207058575627097", InsOid.TEST, "PATB-QUATRE", "Laurence", "treated_by_test_ps"),
    PublicPatient("153078987658513", InsOid.TEST, "PAT-TROIS", "Dominique", "authorised"),
    PublicPatient("157069329642881", InsOid.TEST, "ENCHAINE", "Irène", "authorised", birth_name="DECHAINE"),
    PublicPatient("287080883795737", InsOid.TEST, None, None, "not_attached_to_mes"),
    PublicPatient("279035121518989", InsOid.TEST, None, None, "blocks_test_ps"),
    PublicPatient("162018885045327", InsOid.TEST, None, None, "structure_authorised"),
    PublicPatient("188102B17295264", InsOid.TEST, "FIGATELLIX", "CORSE", "opposes_bris_de_glace"),
    PublicPatient("255069999999934", InsOid.DEMO, "DESMAUX", "Nathalie", "plain"),
    PublicPatient("270108604926542", InsOid.TEST, None, None, "closed"),
    PublicPatient("213102288044517", InsOid.TEST, None, None, "emergency"),
    PublicPatient("207100486108281", InsOid.TEST, None, None, "structure_authorised"),
    PublicPatient("211046322000147", InsOid.TEST, None, None, "expired_for_test_ps"),
    PublicPatient("294096322025871", InsOid.TEST, None, None, "no_dmp"),
)


@dataclass(frozen=True, slots=True)
class StructureSpec:
    """A structure: Struct_IdNat, name, healthcareFacilityTypeCode (TRE_R02) and practiceSettingCode."""

    id: str
    name: str
    sector: str
    practice_setting: str


STRUCTURES: Final = (
    StructureSpec(TEST_STRUCTURE_ID, "CENTRE DE SANTE RPPS12718", "SA05", "AMBULATOIRE"),
    StructureSpec("499900063480001", "CABINET DR LIBRE", "SA07", "AMBULATOIRE"),
    StructureSpec("10B0167011", "CENTRE HOSPITALIER DU VAL FLEURI", "SA01", "ETABLISSEMENT"),
    StructureSpec("10B0041968", "LABORATOIRE DE BIOLOGIE MEDICALE DES CEDRES", "SA25", "AMBULATOIRE"),
    StructureSpec("10B0300417", "PHARMACIE DU MARCHE", "SA33", "AMBULATOIRE"),
    StructureSpec("10B0500126", "INSTITUT DE CANCEROLOGIE DES TROIS RIVIERES", "SA36", "ETABLISSEMENT"),
    StructureSpec("10B0700875", "HAD DU PAYS DES LACS", "SA30", "HAD"),
)


@dataclass(frozen=True, slots=True)
class ProfessionalSpec:
    """A professional: fixed idNat_PS or None (generated RPPS), profession, savoir-faire, structures, kind.

    ``kind`` groups professionals by the documents they write (see :mod:`mock_server.seed.content`).
    """

    ps_id: str | None
    family_name: str | None
    given_name: str | None
    profession: str
    savoir_faire: str | None
    label: str
    structures: tuple[str, ...]
    kind: str


PROFESSIONALS: Final = (
    ProfessionalSpec(
        TEST_PS_ID,
        "LIBRE",
        "MAX",
        "10",
        "SM26",
        "Médecin - Qualifié en Médecine Générale (SM)",
        (TEST_STRUCTURE_ID, "499900063480001"),
        "generaliste",
    ),
    ProfessionalSpec(
        "899900077985", None, None, "10", "SM04", "Médecin - Cardiologie et maladies vasculaires (SM)",
        ("10B0167011",), "specialiste",
    ),
    ProfessionalSpec(
        "899900023351", None, None, "10", "SM59", "Médecin - Médecine d'urgence (SM)", ("10B0167011",), "urgentiste"
    ),
    ProfessionalSpec(
        "899700367909", None, None, "10", "SM44", "Médecin - Radiodiagnostic (SM)", ("10B0167011",), "radiologue"
    ),
    ProfessionalSpec(
        None, None, None, "10", "SM05", "Médecin - Chirurgie générale (SM)", ("10B0167011",), "chirurgien"
    ),
    ProfessionalSpec(
        None, None, None, "10", "SM03", "Médecin - Biologie médicale (SM)", ("10B0041968",), "biologiste"
    ),
    ProfessionalSpec(
        None, None, None, "21", "A", "Pharmacien - Pharmacien titulaire d'officine", ("10B0300417",), "pharmacien"
    ),
    ProfessionalSpec(None, None, None, "60", None, "Infirmier", (TEST_STRUCTURE_ID, "10B0700875"), "infirmier"),
    ProfessionalSpec(None, None, None, "50", None, "Sage-Femme", ("10B0167011",), "sage_femme"),
    ProfessionalSpec(None, None, None, "10", "SM40", "Médecin - Pédiatrie (SM)", ("10B0167011",), "specialiste"),
    ProfessionalSpec(
        None, None, None, "10", "SM36", "Médecin - Oncologie option médicale (SM)", ("10B0500126",), "specialiste"
    ),
    ProfessionalSpec(
        None, None, None, "10", "SM26", "Médecin - Qualifié en Médecine Générale (SM)", (TEST_STRUCTURE_ID,),
        "generaliste",
    ),
)  # fmt: skip


def specialty_code(spec: ProfessionalSpec) -> Code:
    """authorSpecialty ``G15_{profession}/{savoir-faire}`` in ``1.2.250.1.213.1.1.4.5`` (reference §4.5)."""
    code = f"G15_{spec.profession}/{spec.savoir_faire}" if spec.savoir_faire else f"G15_{spec.profession}"
    return Code(code, _SPECIALTY_SCHEME, spec.label)


FEMALE_NAMES: Final = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Claire", "Anne", "Sophie", "Hélène", "Émilie",
    "Margaux", "Lucie", "Pauline", "Agathe", "Élise", "Nadia", "Yasmine", "Gaëlle", "Solène", "Brigitte", "Odile",
)  # fmt: skip
MALE_NAMES: Final = (
    "Lucas", "Hugo", "Louis", "Jules", "Gabriel", "Arthur", "Nathan", "Thomas", "Antoine", "Pierre", "Mathieu",
    "Julien", "Karim", "Yanis", "Bruno", "Olivier", "Didier", "Rémi", "Bastien", "Loïc", "Étienne", "Mehdi",
)  # fmt: skip
FAMILY_NAMES: Final = (
    "MARCHAND", "LEFEVRE", "GARNIER", "ROUSSEL", "BERTIN", "CARON", "FAURE", "GIRAUD", "MERCIER", "BLANCHARD",
    "BARBIER", "ARNAUD", "MARTINEZ", "LEGRAND", "GUERIN", "BOYER", "DUMONT", "LAMBERT", "FONTAINE", "CHEVALIER",
    "ROBIN", "MASSON", "SANCHEZ", "NOEL", "PERRIN", "MOREL", "BENOIT", "DA SILVA", "N'DIAYE", "LE GALL", "OLLIVIER",
    "TESSIER", "PRÉVOST", "COLLET", "RENARD", "HUMBERT", "LECLERC", "VASSEUR", "BAILLY", "HOARAU",
)  # fmt: skip

#: (postal code, city) of the seed's addresses and birth places (real communes, fictitious streets).
CITIES: Final = (
    ("75011", "PARIS"), ("75018", "PARIS"), ("13005", "MARSEILLE"), ("69003", "LYON"), ("59000", "LILLE"),
    ("33000", "BORDEAUX"), ("35000", "RENNES"), ("67000", "STRASBOURG"), ("31000", "TOULOUSE"), ("06000", "NICE"),
    ("44000", "NANTES"), ("20000", "AJACCIO"), ("20200", "BASTIA"), ("97400", "SAINT-DENIS"), ("29200", "BREST"),
)  # fmt: skip
#: (city, country) of births abroad.
BIRTH_PLACES_ABROAD: Final = (("ALGER", "ALGERIE"), ("DAKAR", "SENEGAL"), ("PORTO", "PORTUGAL"), ("LIEGE", "BELGIQUE"))
STREETS: Final = (
    "rue des Lilas", "avenue Jean Jaurès", "boulevard Pasteur", "place de la République", "impasse des Tilleuls",
    "chemin du Moulin", "allée des Acacias", "rue de la Gare", "quai des Brumes", "route de Saint-Malo",
)  # fmt: skip
ADDITIONAL_LOCATORS: Final = (
    "Bâtiment B",
    "Résidence Les Pins, appartement 12",
    "Escalier 3, 2e étage",
    "Lieu-dit Kerhuel",
)
