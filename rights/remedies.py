"""Where a requester can turn when we refuse them anything: the regulator, named and linked.

States with an appeal right require the decision to say how to appeal and, once an appeal is
denied, how to reach the Attorney General, with its online complaint mechanism where one exists
(C.R.S. §6-1-1306(3); Conn. Gen. Stat. §42-518(d); Va. Code §59.1-577(C); Tex. Bus. & Com. Code
§541.053 and §541.152; ORS 646A.576(6); Fla. Stat. §501.707). GDPR Art. 12(4) and UK GDPR
Art. 12(4) require naming the supervisory authority and the judicial remedy on any refusal;
for the EU that is the authority of the Member State where the requester lives (GDPR Art. 77).
California has no appeal; the CPPA takes complaints. The addresses are the regulators' own
complaint pages as published; check them before each release.
"""

from __future__ import annotations

from datetime import date
from typing import Final, NamedTuple

from rights.activity_inputs import Remedies
from rights.deadlines import ALWAYS, STATE_LAWS_FROM, granted_rights
from rights.terms import Jurisdiction, RequestType


class Regulator(NamedTuple):
    name: str
    complaint_url: str


US_REGULATORS: Final[dict[Jurisdiction, Regulator]] = {
    Jurisdiction.US_CA: Regulator(
        "the California Privacy Protection Agency", "https://cppa.ca.gov/webapplications/complaint"
    ),
    Jurisdiction.US_CO: Regulator(
        "the Colorado Attorney General", "https://coag.gov/file-complaint/"
    ),
    Jurisdiction.US_CT: Regulator(
        "the Connecticut Attorney General", "https://www.dir.ct.gov/ag/complaint/"
    ),
    Jurisdiction.US_VA: Regulator(
        "the Virginia Attorney General",
        "https://www.oag.state.va.us/consumer-protection/index.php/file-a-complaint",
    ),
    Jurisdiction.US_UT: Regulator(
        "the Utah Division of Consumer Protection",
        "https://consumerprotection.utah.gov/complaints/",
    ),
    Jurisdiction.US_TX: Regulator(
        "the Texas Attorney General",
        "https://www.texasattorneygeneral.gov/consumer-protection/file-consumer-complaint",
    ),
    Jurisdiction.US_OR: Regulator(
        "the Oregon Attorney General (Department of Justice)",
        "https://justice.oregon.gov/consumercomplaints/",
    ),
    Jurisdiction.US_FL: Regulator(
        "the Florida Department of Legal Affairs",
        "https://www.myfloridalegal.com/how-to-file-a-complaint",
    ),
    Jurisdiction.US_MN: Regulator(
        "the Minnesota Attorney General", "https://www.ag.state.mn.us/Data-Privacy/Consumer/"
    ),
    Jurisdiction.US_MT: Regulator(
        "the Montana Department of Justice, Office of Consumer Protection",
        "https://dojmt.gov/consumer/",
    ),
    Jurisdiction.US_DE: Regulator(
        "the Delaware Department of Justice",
        "https://attorneygeneral.delaware.gov/fraud/cpu/complaint/",
    ),
    Jurisdiction.US_IA: Regulator(
        "the Iowa Attorney General",
        "https://www.iowaattorneygeneral.gov/for-consumers/file-a-consumer-complaint",
    ),
    Jurisdiction.US_NE: Regulator(
        "the Nebraska Attorney General", "https://protectthegoodlife.nebraska.gov/"
    ),
    Jurisdiction.US_NH: Regulator(
        "the New Hampshire Attorney General (Consumer Protection and Antitrust Bureau)",
        "https://www.doj.nh.gov/data-privacy-enforcement",
    ),
    Jurisdiction.US_NJ: Regulator(
        "the New Jersey Division of Consumer Affairs",
        "https://www.njconsumeraffairs.gov/Pages/Consumer-Complaints.aspx",
    ),
    Jurisdiction.US_TN: Regulator(
        "the Tennessee Attorney General",
        "https://www.tn.gov/attorneygeneral/working-for-tennessee/consumer-protection.html",
    ),
    Jurisdiction.US_MD: Regulator(
        "the Maryland Attorney General (Consumer Protection Division)",
        "https://www.marylandattorneygeneral.gov/Pages/CPD/complaint.aspx",
    ),
    Jurisdiction.US_IN: Regulator(
        "the Indiana Attorney General",
        "https://www.in.gov/attorneygeneral/consumer-protection-division/file-a-complaint/",
    ),
    Jurisdiction.US_KY: Regulator(
        "the Kentucky Attorney General", "https://www.ag.ky.gov/Resources/Consumer-Resources"
    ),
    Jurisdiction.US_RI: Regulator(
        "the Rhode Island Attorney General", "https://riag.ri.gov/consumer-protection"
    ),
}

ICO: Final = Regulator(
    "the Information Commissioner's Office", "https://ico.org.uk/make-a-complaint/"
)

# The supervisory authority of each EEA state (EDPB members), by ISO country code.
EU_AUTHORITIES: Final[dict[str, Regulator]] = {
    "AT": Regulator(
        "the Austrian Data Protection Authority (Datenschutzbehörde)", "https://www.dsb.gv.at"
    ),
    "BE": Regulator(
        "the Belgian Data Protection Authority", "https://www.dataprotectionauthority.be"
    ),
    "BG": Regulator("the Bulgarian Commission for Personal Data Protection", "https://www.cpdp.bg"),
    "CY": Regulator(
        "the Cypriot Commissioner for Personal Data Protection", "https://www.dataprotection.gov.cy"
    ),
    "CZ": Regulator("the Czech Office for Personal Data Protection", "https://uoou.gov.cz"),
    "DE": Regulator(
        "the data protection authority of your German Land (listed by the BfDI)",
        "https://www.bfdi.bund.de/anschriften",
    ),
    "DK": Regulator(
        "the Danish Data Protection Agency (Datatilsynet)", "https://www.datatilsynet.dk"
    ),
    "EE": Regulator("the Estonian Data Protection Inspectorate", "https://www.aki.ee"),
    "ES": Regulator("the Spanish Data Protection Agency (AEPD)", "https://www.aepd.es"),
    "FI": Regulator(
        "the Office of the Data Protection Ombudsman (Finland)", "https://tietosuoja.fi"
    ),
    "FR": Regulator("the CNIL (France)", "https://www.cnil.fr"),
    "GR": Regulator("the Hellenic Data Protection Authority", "https://www.dpa.gr"),
    "HR": Regulator("the Croatian Personal Data Protection Agency (AZOP)", "https://azop.hr"),
    "HU": Regulator(
        "the Hungarian National Authority for Data Protection (NAIH)", "https://naih.hu"
    ),
    "IE": Regulator("the Data Protection Commission (Ireland)", "https://www.dataprotection.ie"),
    "IS": Regulator(
        "the Icelandic Data Protection Authority (Persónuvernd)", "https://www.personuvernd.is"
    ),
    "IT": Regulator(
        "the Garante per la protezione dei dati personali (Italy)", "https://www.garanteprivacy.it"
    ),
    "LI": Regulator(
        "the Liechtenstein Data Protection Authority", "https://www.datenschutzstelle.li"
    ),
    "LT": Regulator("the Lithuanian State Data Protection Inspectorate", "https://vdai.lrv.lt"),
    "LU": Regulator(
        "the National Commission for Data Protection (Luxembourg)", "https://cnpd.public.lu"
    ),
    "LV": Regulator("the Latvian Data State Inspectorate", "https://www.dvi.gov.lv"),
    "MT": Regulator(
        "the Information and Data Protection Commissioner (Malta)", "https://idpc.org.mt"
    ),
    "NL": Regulator(
        "the Dutch Data Protection Authority (Autoriteit Persoonsgegevens)",
        "https://autoriteitpersoonsgegevens.nl",
    ),
    "NO": Regulator(
        "the Norwegian Data Protection Authority (Datatilsynet)", "https://www.datatilsynet.no"
    ),
    "PL": Regulator("the Polish Personal Data Protection Office (UODO)", "https://uodo.gov.pl"),
    "PT": Regulator("the Portuguese Data Protection Authority (CNPD)", "https://www.cnpd.pt"),
    "RO": Regulator(
        "the Romanian Data Protection Authority (ANSPDCP)", "https://www.dataprotection.ro"
    ),
    "SE": Regulator("the Swedish Authority for Privacy Protection (IMY)", "https://www.imy.se"),
    "SI": Regulator("the Slovenian Information Commissioner", "https://www.ip-rs.si"),
    "SK": Regulator(
        "the Slovak Office for Personal Data Protection", "https://dataprotection.gov.sk"
    ),
}

# Without the requester's country, the EDPB's list of every member authority.
EDPB_MEMBERS: Final = Regulator(
    "the data protection authority of the EU or EEA country where you live",
    "https://www.edpb.europa.eu/about-edpb/about-edpb/members_en",
)


# Where no privacy law we apply covers the requester, the consumer-protection regulators that
# still take complaints about a US business: the FTC, and for people abroad its econsumer.gov.
FTC: Final = Regulator("the Federal Trade Commission", "https://reportfraud.ftc.gov/")
ECONSUMER: Final = Regulator(
    "the international consumer protection network econsumer.gov", "https://www.econsumer.gov/"
)


def regulator_for(jurisdiction: Jurisdiction, country: str | None = None) -> Regulator:
    """Who takes a complaint about our answer: for the EU, the authority of `country`."""
    if jurisdiction is Jurisdiction.US_NO_STATE_LAW:
        return FTC
    if jurisdiction in (Jurisdiction.UNCOVERED, Jurisdiction.UNDETERMINED):
        return FTC if country in (None, "US") else ECONSUMER
    if jurisdiction is Jurisdiction.GB:
        return ICO
    if jurisdiction is Jurisdiction.EU:
        return EU_AUTHORITIES.get((country or "").upper(), EDPB_MEMBERS)
    return US_REGULATORS[jurisdiction]


def courts_too(jurisdiction: Jurisdiction) -> bool:
    """GDPR Art. 79 and UK GDPR Art. 79: a refusal names the judicial remedy as well."""
    return jurisdiction in (Jurisdiction.EU, Jurisdiction.GB)


def appeals_granted(
    jurisdiction: Jurisdiction, on: date | None = None, *, honour_states_without_law: bool = True
) -> bool:
    """Whether the law gives the requester an appeal to us (per the deadline engine's rules):
    to a request received `on`, or once the law is in force when no day is given; none while
    their law is undetermined, nor in a state without a law that we do not honour."""
    if jurisdiction is Jurisdiction.UNDETERMINED:
        return False
    day = on or STATE_LAWS_FROM.get(jurisdiction, ALWAYS)
    return RequestType.APPEAL in granted_rights(
        jurisdiction, day, honour_states_without_law=honour_states_without_law
    )


def remedies_for(
    jurisdiction: Jurisdiction, country: str | None, *, appeal_by: date | None
) -> Remedies:
    """What a refusal must tell the requester they may do about it."""
    regulator = regulator_for(jurisdiction, country)
    return Remedies(
        appeal_by=appeal_by,
        regulator=regulator.name,
        regulator_url=regulator.complaint_url,
        courts=courts_too(jurisdiction),
    )
