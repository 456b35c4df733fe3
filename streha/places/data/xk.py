"""Kosovo: seven regions (districts) and 38 municipalities, in Albanian, Serbian and English."""

COUNTRY = "XK"

# region code: (Albanian, Serbian, English), [(municipality code, Albanian, Serbian, English)]
REGIONS = {
    "prishtina": (
        ("Prishtinë", "Priština", "Pristina"),
        [
            ("prishtina", "Prishtinë", "Priština", "Pristina"),
            ("podujeva", "Podujevë", "Podujevo", "Podujevo"),
            ("obiliq", "Obiliq", "Obilić", "Obiliq"),
            ("fushe-kosova", "Fushë Kosovë", "Kosovo Polje", "Fushë Kosovë"),
            ("lipjan", "Lipjan", "Lipljan", "Lipjan"),
            ("drenas", "Drenas", "Glogovac", "Drenas"),
            ("shtime", "Shtime", "Štimlje", "Shtime"),
            ("gracanica", "Graçanicë", "Gračanica", "Gračanica"),
            ("novoberda", "Novobërdë", "Novo Brdo", "Novo Brdo"),
        ],
    ),
    "mitrovica": (
        ("Mitrovicë", "Mitrovica", "Mitrovica"),
        [
            ("mitrovica-south", "Mitrovicë e Jugut", "Južna Mitrovica", "South Mitrovica"),
            ("mitrovica-north", "Mitrovicë e Veriut", "Severna Mitrovica", "North Mitrovica"),
            ("vushtrri", "Vushtrri", "Vučitrn", "Vushtrri"),
            ("skenderaj", "Skënderaj", "Srbica", "Skenderaj"),
            ("zvecan", "Zveçan", "Zvečan", "Zvečan"),
            ("zubin-potok", "Zubin Potok", "Zubin Potok", "Zubin Potok"),
            ("leposaviq", "Leposaviq", "Leposavić", "Leposavić"),
        ],
    ),
    "peja": (
        ("Pejë", "Peć", "Peja"),
        [
            ("peja", "Pejë", "Peć", "Peja"),
            ("istog", "Istog", "Istok", "Istog"),
            ("kline", "Klinë", "Klina", "Klina"),
            ("decan", "Deçan", "Dečani", "Deçan"),
            ("junik", "Junik", "Junik", "Junik"),
        ],
    ),
    "gjakova": (
        ("Gjakovë", "Đakovica", "Gjakova"),
        [
            ("gjakova", "Gjakovë", "Đakovica", "Gjakova"),
            ("rahovec", "Rahovec", "Orahovac", "Rahovec"),
            ("malisheva", "Malishevë", "Mališevo", "Malisheva"),
        ],
    ),
    "prizren": (
        ("Prizren", "Prizren", "Prizren"),
        [
            ("prizren", "Prizren", "Prizren", "Prizren"),
            ("dragash", "Dragash", "Dragaš", "Dragash"),
            ("suhareka", "Suharekë", "Suva Reka", "Suhareka"),
            ("mamusha", "Mamushë", "Mamuša", "Mamusha"),
        ],
    ),
    "ferizaj": (
        ("Ferizaj", "Uroševac", "Ferizaj"),
        [
            ("ferizaj", "Ferizaj", "Uroševac", "Ferizaj"),
            ("kacanik", "Kaçanik", "Kačanik", "Kaçanik"),
            ("shterpce", "Shtërpcë", "Štrpce", "Štrpce"),
            ("hani-i-elezit", "Hani i Elezit", "Elez Han", "Hani i Elezit"),
        ],
    ),
    "gjilan": (
        ("Gjilan", "Gnjilane", "Gjilan"),
        [
            ("gjilan", "Gjilan", "Gnjilane", "Gjilan"),
            ("kamenica", "Kamenicë", "Kamenica", "Kamenica"),
            ("viti", "Viti", "Vitina", "Viti"),
            ("ranillug", "Ranillug", "Ranilug", "Ranilug"),
            ("partesh", "Partesh", "Parteš", "Parteš"),
            ("kllokot", "Kllokot", "Klokot", "Klokot"),
        ],
    ),
}
