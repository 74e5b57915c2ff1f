"""Fictitious clinical content for the seed: one template per DMP typeCode, rendered into CDA bodies.

Level 1 documents are PDFs or plain text built from phrase pools; lab reports are structured (XD-LAB
format code) with narrative result tables. Everything is drawn from the seeded ``random.Random`` given
by the caller, so the same seed renders the same bytes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.xds.codes import format_code_for_media_type
from mock_server.seed.cda import NonXmlBody, Section, minimal_pdf

__all__ = ["TEMPLATES", "Content", "DocumentTemplate", "render"]

PDF: Final = "application/pdf"
TEXT: Final = "text/plain"
STRUCTURED: Final = "structured"


@dataclass(frozen=True, slots=True)
class DocumentTemplate:
    """How to write one kind of document: typeCode, who writes it, body kind, fields and event codes."""

    type_code: str
    title: str
    authors: tuple[str, ...]
    media: str
    fields: tuple[str, ...] = ()
    event_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Content:
    """A rendered document: title, CDA body, event code, and the formatCode it implies."""

    title: str
    body: NonXmlBody | tuple[Section, ...]
    event_code: Code | None
    format_code: Code


_POOLS: Final[dict[str, tuple[str, ...]]] = {
    "Motif": (
        "Suivi d'hypertension artérielle",
        "Douleur thoracique atypique",
        "Dyspnée d'effort depuis un mois",
        "Fièvre et toux depuis cinq jours",
        "Lombalgie aiguë sans irradiation",
        "Suivi de diabète de type 2",
        "Contrôle à distance d'une intervention",
        "Céphalées récidivantes",
        "Bilan de fatigue",
    ),
    "Examen clinique": (
        "TA 142/88 mmHg, FC 76/min, auscultation cardio-pulmonaire normale.",
        "Apyrétique, abdomen souple et indolore, pas d'œdème des membres inférieurs.",
        "SpO2 97 % en air ambiant, murmure vésiculaire symétrique, quelques crépitants en base droite.",
        "Examen neurologique normal, pas de syndrome méningé.",
        "Poids 71 kg, IMC 24,6 kg/m², glycémie capillaire 1,32 g/L.",
    ),
    "Conclusion": (
        "Pas de signe de gravité ; poursuite du traitement en cours.",
        "Réévaluation clinique dans trois mois.",
        "Avis cardiologique demandé.",
        "Évolution favorable, pas de suivi spécifique.",
        "Adaptation thérapeutique et contrôle biologique dans un mois.",
    ),
    "Traitement": (
        "Amlodipine 5 mg : 1 comprimé le matin.",
        "Metformine 1000 mg : 1 comprimé matin et soir.",
        "Paracétamol 1 g : 1 comprimé jusqu'à 3 fois par jour si douleur.",
        "Amoxicilline 1 g : 1 comprimé matin et soir pendant 6 jours.",
        "Ramipril 5 mg : 1 comprimé le soir.",
        "Atorvastatine 20 mg : 1 comprimé le soir.",
    ),
    "Séjour": (
        "Hospitalisation de trois jours en médecine polyvalente.",
        "Séjour de cinq jours en cardiologie.",
        "Hospitalisation de jour en hôpital de semaine.",
        "Séjour de deux jours en chirurgie ambulatoire.",
    ),
    "Suivi": (
        "Consultation avec le médecin traitant sous huit jours.",
        "Consultation de contrôle dans six semaines.",
        "Bilan biologique à réaliser dans quinze jours.",
        "Kinésithérapie : dix séances.",
    ),
    "Intervention": (
        "Appendicectomie par cœlioscopie sous anesthésie générale.",
        "Cure de hernie inguinale droite avec mise en place d'une plaque.",
        "Cholécystectomie par cœlioscopie, suites opératoires simples.",
    ),
    "Examen": (
        "Radiographie thoracique de face.",
        "Scanner abdomino-pelvien avec injection.",
        "IRM du genou droit.",
        "Échographie abdominale.",
    ),
    "Résultat": (
        "Pas d'anomalie parenchymateuse décelable.",
        "Discret épanchement intra-articulaire sans lésion méniscale.",
        "Foie de taille normale, pas de dilatation des voies biliaires.",
        "Aspect stable par rapport à l'examen antérieur.",
    ),
    "Prélèvement": (
        "Biopsie cutanée de l'avant-bras gauche.",
        "Pièce d'appendicectomie.",
        "Biopsie gastrique antrale.",
    ),
    "Conclusion anatomo-pathologique": (
        "Nævus nævocellulaire composé, bénin, exérèse complète.",
        "Appendicite aiguë ulcéro-phlegmoneuse.",
        "Gastrite chronique non atrophique, absence d'Helicobacter pylori.",
    ),
    "Acte": (
        "Électrocardiogramme de repos : rythme sinusal régulier, pas de trouble de la repolarisation.",
        "Épreuve d'effort maximale négative cliniquement et électriquement.",
        "Spirométrie : trouble ventilatoire obstructif réversible.",
    ),
    "Prévention": (
        "Dépistage organisé du cancer colorectal : coloscopie sans polype.",
        "Frottis cervico-utérin de dépistage, prélèvement réalisé.",
        "Consultation de prévention : conseils d'arrêt du tabac.",
    ),
    "Prescription": (
        "Amlodipine 5 mg, 1 comprimé par jour, QSP 3 mois.",
        "Metformine 500 mg, 1 comprimé matin et soir, QSP 3 mois.",
        "Salbutamol 100 µg/dose, 2 bouffées si gêne respiratoire, QSP 1 mois.",
        "Lévothyroxine 75 µg, 1 comprimé le matin à jeun, QSP 3 mois.",
    ),
    "Soins": (
        "Soins infirmiers à domicile : pansement simple tous les deux jours pendant quinze jours.",
        "Injection sous-cutanée d'héparine de bas poids moléculaire une fois par jour pendant dix jours.",
        "Surveillance glycémique capillaire trois fois par jour.",
    ),
    "Délivrance": (
        "Amlodipine 5 mg, boîte de 30, 3 boîtes.",
        "Metformine 1000 mg, boîte de 60, 1 boîte.",
        "Paracétamol 1 g, boîte de 8, 2 boîtes.",
        "Substitution générique acceptée par le patient.",
    ),
    "Objectifs": (
        "HbA1c inférieure à 7 %, activité physique trente minutes par jour.",
        "Pression artérielle inférieure à 140/90 mmHg, réduction de la consommation de sel.",
        "Maintien à domicile avec passage infirmier quotidien.",
    ),
    "Vaccin": (
        "Vaccin grippal quadrivalent, injection intramusculaire dans le deltoïde gauche.",
        "Rappel diphtérie-tétanos-poliomyélite, injection intramusculaire.",
        "Vaccin contre le pneumocoque, injection intramusculaire.",
    ),
    "Objet": (
        "Certificat de non contre-indication à la pratique du sport en compétition.",
        "Certificat médical d'aptitude à la vie en collectivité.",
        "Déclaration de médecin traitant.",
    ),
    "Antécédents": (
        "Hypertension artérielle traitée depuis 2015 ; appendicectomie dans l'enfance.",
        "Diabète de type 2 ; allergie à la pénicilline.",
        "Asthme dans l'enfance ; pas d'allergie connue.",
    ),
    "Note du patient": (
        "Mes antécédents familiaux : père diabétique, mère hypertendue.",
        "Je pratique la course à pied trois fois par semaine.",
        "Je suis donneur d'organes, mes proches le savent.",
    ),
    "Directives": (
        "Je ne souhaite pas d'acharnement thérapeutique en cas de situation irréversible.",
        "Je désigne ma sœur comme personne de confiance.",
    ),
}

TEMPLATES: Final = (
    DocumentTemplate(
        "11488-4",
        "Compte rendu de consultation",
        ("generaliste", "specialiste"),
        PDF,
        ("Motif", "Examen clinique", "Conclusion", "Traitement"),
        ("I10", "E11", "J45"),
    ),
    DocumentTemplate(
        "11490-0",
        "Lettre de liaison à la sortie",
        ("specialiste", "chirurgien"),
        PDF,
        ("Séjour", "Conclusion", "Traitement", "Suivi"),
    ),
    DocumentTemplate(
        "11493-4", "Compte rendu d'hospitalisation", ("specialiste",), PDF, ("Motif", "Séjour", "Conclusion", "Suivi")
    ),
    DocumentTemplate(
        "34874-8", "Compte rendu opératoire", ("chirurgien",), PDF, ("Intervention", "Suivi"), ("K35", "BACA008")
    ),
    DocumentTemplate(
        "15507-7",
        "Compte rendu de passage aux urgences",
        ("urgentiste",),
        PDF,
        ("Motif", "Examen clinique", "Conclusion"),
        ("S82",),
    ),
    DocumentTemplate("18748-4", "Compte rendu d'imagerie", ("radiologue",), PDF, ("Examen", "Résultat"), ("CT", "MR")),
    DocumentTemplate("11502-2", "Compte rendu d'examens de biologie médicale", ("biologiste",), STRUCTURED),
    DocumentTemplate(
        "11526-1",
        "Compte rendu d'anatomie et de cytologie pathologiques",
        ("specialiste",),
        PDF,
        ("Prélèvement", "Conclusion anatomo-pathologique"),
    ),
    DocumentTemplate("27899-4", "Compte rendu d'acte diagnostique", ("specialiste",), TEXT, ("Acte", "Conclusion")),
    DocumentTemplate(
        "29554-3", "Compte rendu d'acte de prévention", ("generaliste", "sage_femme"), PDF, ("Prévention", "Suivi")
    ),
    DocumentTemplate("46241-6", "Compte rendu d'admission", ("urgentiste", "specialiste"), TEXT, ("Motif", "Séjour")),
    DocumentTemplate(
        "34133-9", "Synthèse d'épisode de soins", ("specialiste",), PDF, ("Antécédents", "Séjour", "Conclusion")
    ),
    DocumentTemplate("29551-9", "Prescription de médicaments", ("generaliste", "specialiste"), PDF, ("Prescription",)),
    DocumentTemplate("52521-2", "Prescription de soins", ("generaliste",), PDF, ("Soins",)),
    DocumentTemplate("29550-1", "Dispensation médicamenteuse", ("pharmacien",), TEXT, ("Délivrance",)),
    DocumentTemplate(
        "18776-5", "Plan personnalisé de soins", ("generaliste", "infirmier"), PDF, ("Objectifs", "Soins")
    ),
    DocumentTemplate("87273-9", "Note de vaccination", ("infirmier", "generaliste", "sage_femme"), TEXT, ("Vaccin",)),
    DocumentTemplate(
        "PROT_ALD", "Protocole de soins ALD", ("generaliste",), PDF, ("Objectifs", "Traitement"), ("E11",)
    ),
    DocumentTemplate("DISP_AUT", "Dispensation de dispositifs médicaux", ("pharmacien",), TEXT, ("Délivrance",)),
    DocumentTemplate("CERT_DECL", "Certificat médical", ("generaliste",), PDF, ("Objet",)),
    DocumentTemplate("SYNTH", "Synthèse médicale", ("generaliste",), PDF, ("Antécédents", "Traitement")),
    DocumentTemplate("EXPPAT_1", "Informations déposées par le patient", ("patient",), TEXT, ("Note du patient",)),
    DocumentTemplate("EXPPAT_2", "Directives anticipées", ("patient",), TEXT, ("Directives",)),
)

_LAB_PANELS: Final = (
    (
        "Hématologie",
        "18723-7",
        (
            ("Hémoglobine", "g/dL", 11.5, 16.5, 12.0, 16.0),
            ("Leucocytes", "G/L", 3.5, 11.0, 4.0, 10.0),
            ("Plaquettes", "G/L", 140, 420, 150, 400),
        ),
    ),
    (
        "Biochimie",
        "18719-5",
        (
            ("Glycémie à jeun", "g/L", 0.75, 1.45, 0.70, 1.10),
            ("Créatinine", "µmol/L", 55, 125, 45, 110),
            ("Cholestérol LDL", "g/L", 0.8, 1.9, 0.0, 1.6),
            ("HbA1c", "%", 5.0, 8.2, 4.0, 6.0),
        ),
    ),
)
_LAB_COMMENTS: Final = (
    "Bilan sans anomalie notable.",
    "Hyperglycémie modérée à contrôler.",
    "Résultats à interpréter selon le contexte clinique.",
)
_LOINC: Final = "2.16.840.1.113883.6.1"


def _lab_sections(rng: random.Random) -> tuple[Section, ...]:
    sections = []
    for title, loinc, analytes in _LAB_PANELS:
        rows: list[tuple[str, ...]] = [("Analyse", "Résultat", "Unité", "Valeurs de référence")]
        for name, unit, low, high, ref_low, ref_high in analytes:
            value = rng.uniform(low, high)
            shown = f"{value:.0f}" if high >= 100 else f"{value:.2f}".replace(".", ",")
            flag = " (H)" if value > ref_high else " (B)" if value < ref_low else ""
            rows.append((name, shown + flag, unit, f"{ref_low} – {ref_high}".replace(".", ",")))
        sections.append(Section(title, table=tuple(rows), code=Code(loinc, _LOINC, title)))
    comment = rng.choice(_LAB_COMMENTS)
    sections.append(Section("Commentaire", paragraphs=(comment,)))
    return tuple(sections)


def render(
    template: DocumentTemplate,
    rng: random.Random,
    *,
    patient_name: str,
    birth_date: date,
    author_name: str,
    when: datetime,
) -> Content:
    """Render a template for one patient, author and date."""
    event = (
        load_value_set(ValueSetId.EVENT_CODE).require(rng.choice(template.event_codes))
        if template.event_codes
        else None
    )
    formats = load_value_set(ValueSetId.FORMAT_CODE)
    if template.media == STRUCTURED:
        return Content(template.title, _lab_sections(rng), event, formats.require("urn:ihe:lab:xd-lab:2008"))
    lines = [
        f"Patient(e) : {patient_name}, né(e) le {birth_date:%d/%m/%Y}",
        f"Date : {when:%d/%m/%Y}    Auteur : {author_name}",
        "",
    ]
    if event is not None:
        lines.append(f"Contexte : {event.display}")
    lines += [f"{field} : {rng.choice(_POOLS[field])}" for field in template.fields]
    if template.media == PDF:
        body = NonXmlBody(PDF, minimal_pdf(lines, title=template.title))
    else:
        body = NonXmlBody(TEXT, "\n".join((template.title, *lines, "")).encode("utf-8"))
    return Content(template.title, body, event, format_code_for_media_type(template.media))
