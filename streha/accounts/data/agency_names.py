"""The demo agencies' names in the three official languages: code → (sq, sr-Latn, en).

Loaded by ``streha demo`` (and filled into existing agencies by the migration that added the
translated names). English is the registered name."""

AGENCY_NAMES = {
    "national-coordinator": (
        "Zyra e Koordinatorit Kombëtar kundër Trafikimit me Qenie Njerëzore",
        "Kancelarija nacionalnog koordinatora za borbu protiv trgovine ljudima",
        "Office of the National Coordinator against THB",
    ),
    "police-thb": (
        "Policia e Kosovës – Drejtoria për Hetimin e Trafikimit me Qenie Njerëzore",
        "Kosovska policija – Direkcija za istrage trgovine ljudima",
        "Kosovo Police – THB Investigations Directorate",
    ),
    "police-prizren": (
        "Policia e Kosovës – Njësia Rajonale kundër Trafikimit Prizren",
        "Kosovska policija – Regionalna jedinica za borbu protiv trgovine ljudima Prizren",
        "Kosovo Police – Regional THB Unit Prizren",
    ),
    "police-peja": (
        "Policia e Kosovës – Njësia Rajonale kundër Trafikimit Pejë",
        "Kosovska policija – Regionalna jedinica za borbu protiv trgovine ljudima Peć",
        "Kosovo Police – Regional THB Unit Peja",
    ),
    "state-prosecutor": (
        "Prokurori i Shtetit – pika kontaktuese për trafikimin",
        "Državno tužilaštvo – kontakt tačka za trgovinu ljudima",
        "State Prosecutor – THB focal point",
    ),
    "prosecution-prizren": (
        "Prokuroria Themelore Prizren",
        "Osnovno tužilaštvo Prizren",
        "Basic Prosecution Office Prizren",
    ),
    "victim-advocacy": (
        "Zyra për Mbrojtjen dhe Ndihmën e Viktimave",
        "Kancelarija za zaštitu i pomoć žrtvama",
        "Victim Advocacy and Assistance Office",
    ),
    "csw-prishtina": (
        "Qendra për Punë Sociale Prishtinë",
        "Centar za socijalni rad Priština",
        "Centre for Social Work Prishtina",
    ),
    "csw-prizren": (
        "Qendra për Punë Sociale Prizren",
        "Centar za socijalni rad Prizren",
        "Centre for Social Work Prizren",
    ),
    "csw-gjilan": (
        "Qendra për Punë Sociale Gjilan",
        "Centar za socijalni rad Gnjilane",
        "Centre for Social Work Gjilan",
    ),
    "csw-mitrovica": (
        "Qendra për Punë Sociale Mitrovicë",
        "Centar za socijalni rad Mitrovica",
        "Centre for Social Work Mitrovica",
    ),
    "shelter-drita": (
        "Strehimorja Drita (OJQ demo)",
        "Sklonište Drita (demo NVO)",
        "Drita Shelter (demo NGO)",
    ),
    "shelter-shpresa": (
        "Strehimorja Shpresa (OJQ demo)",
        "Sklonište Shpresa (demo NVO)",
        "Shpresa Shelter (demo NGO)",
    ),
    "state-shelter": (
        "Strehimorja Shtetërore për Personat e Trafikuar",
        "Državno sklonište za žrtve trgovine ljudima",
        "State Shelter for Trafficked Persons",
    ),
    "labour-inspectorate": ("Inspektorati i Punës", "Inspektorat rada", "Labour Inspectorate"),
    "health-gjilan": (
        "Spitali Rajonal Gjilan",
        "Regionalna bolnica Gnjilane",
        "Regional Hospital Gjilan",
    ),
    "io-migration": (
        "Organizata Ndërkombëtare për Migracion (demo)",
        "Međunarodna organizacija za migracije (demo)",
        "International Organisation for Migration (demo)",
    ),
    "court-prishtina": (
        "Gjykata Themelore e Prishtinës",
        "Osnovni sud u Prištini",
        "Basic Court of Prishtina",
    ),
    "court-prizren": (
        "Gjykata Themelore e Prizrenit",
        "Osnovni sud u Prizrenu",
        "Basic Court of Prizren",
    ),
    "court-appeals": ("Gjykata e Apelit", "Apelacioni sud", "Court of Appeals"),
}
