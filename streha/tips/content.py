"""The campaign's starting pages, in Albanian, Serbian (Latin) and English.

Loaded once by a data migration; after that the coordinator's staff edit them in the system.
``{hotline}`` and ``{emergency}`` are replaced by the configured numbers when the page is shown.
"""

# slug, order, (title sq, sr, en), (body sq, sr, en)
PAGES = [
    (
        "what-is-trafficking",
        1,
        (
            "Çfarë është trafikimi i qenieve njerëzore",
            "Šta je trgovina ljudima",
            "What trafficking in human beings is",
        ),
        (
            "Trafikimi i qenieve njerëzore është rekrutimi, transportimi, strehimi ose pranimi i "
            "një personi me forcë, kërcënim, mashtrim ose duke shfrytëzuar gjendjen e tij të "
            "cenueshme, me qëllim shfrytëzimi.\n\n"
            "Format më të shpeshta janë shfrytëzimi seksual, puna e detyruar dhe lypja e "
            "detyruar. Viktima mund të jetë kushdo: grua, burrë, vajzë ose djalë, nga Kosova apo "
            "nga jashtë. Trafikimi mund të ndodhë edhe pa kaluar ndonjë kufi.\n\n"
            "Pëlqimi i viktimës nuk ka rëndësi kur është arritur me mashtrim ose dhunë; për "
            "fëmijët, pëlqimi nuk ka kurrë rëndësi.",
            "Trgovina ljudima je vrbovanje, prevoz, smeštaj ili prihvat osobe silom, pretnjom, "
            "obmanom ili zloupotrebom njenog teškog položaja, radi iskorišćavanja.\n\n"
            "Najčešći oblici su seksualno iskorišćavanje, prinudni rad i prinudno prosjačenje. "
            "Žrtva može biti bilo ko: žena, muškarac, devojčica ili dečak, sa Kosova ili iz "
            "inostranstva. Trgovina ljudima može se desiti i bez prelaska granice.\n\n"
            "Pristanak žrtve nije bitan ako je postignut obmanom ili nasiljem; kod dece pristanak "
            "nikada nije bitan.",
            "Trafficking in human beings is recruiting, moving, harbouring or receiving a person "
            "by force, threats, deception or abuse of their vulnerable situation, in order to "
            "exploit them.\n\n"
            "The most common forms are sexual exploitation, forced labour and forced begging. "
            "Anyone can be a victim: a woman, a man, a girl or a boy, from Kosovo or from abroad. "
            "Trafficking can happen without crossing any border.\n\n"
            "A victim's consent does not matter when it was obtained by deception or violence; "
            "for children, consent never matters.",
        ),
    ),
    (
        "signs",
        2,
        ("Si ta njohësh", "Kako ga prepoznati", "How to recognise it"),
        (
            "Dikush nuk mund të largohet lirisht nga vendi ku punon ose jeton, ose ruhet "
            "vazhdimisht.\n\n"
            "Dokumentet e identitetit ia ka marrë dikush tjetër. Nuk paguhet, ose paga i merret "
            "për të shlyer një borxh që nuk mbaron kurrë.\n\n"
            "Punon orë të tepërta, në kushte të rrezikshme, ose fle në vendin e punës. Duket i "
            "frikësuar, i lënduar, ose flet sikur i janë mësuar fjalët.\n\n"
            "Një fëmijë lyp, shet ose punon në rrugë për dikë tjetër, ose nuk shkon në shkollë.",
            "Neko ne može slobodno da napusti mesto gde radi ili živi, ili je stalno pod "
            "nadzorom.\n\n"
            "Lična dokumenta drži neko drugi. Ne dobija platu, ili mu se plata oduzima za dug "
            "koji se nikad ne završava.\n\n"
            "Radi prekomerno, u opasnim uslovima, ili spava na mestu rada. Deluje uplašeno, "
            "povređeno, ili govori kao da su mu reči naučene.\n\n"
            "Dete prosi, prodaje ili radi na ulici za nekog drugog, ili ne ide u školu.",
            "Someone cannot freely leave the place where they work or live, or is watched all "
            "the time.\n\n"
            "Someone else holds their identity documents. They are not paid, or their pay is "
            "taken for a debt that never ends.\n\n"
            "They work excessive hours, in dangerous conditions, or sleep where they work. They "
            "seem frightened, injured, or speak as if their words were rehearsed.\n\n"
            "A child begs, sells or works in the street for someone else, or does not go to "
            "school.",
        ),
    ),
    (
        "rights",
        3,
        ("Të drejtat e viktimave", "Prava žrtava", "The rights of victims"),
        (
            "Viktimat e trafikimit kanë të drejtë për strehim të sigurt, kujdes mjekësor dhe "
            "psikologjik, përkthyes dhe ndihmë juridike falas.\n\n"
            "Kanë të drejtë për një periudhë rimëkëmbjeje dhe reflektimi prej të paktën 30 "
            "ditësh, edhe nëse nuk bashkëpunojnë me policinë. Ndihma nuk varet nga dëshmia.\n\n"
            "Viktimat e huaja mund të marrin leje qëndrimi dhe ndihmë për kthim të sigurt. "
            "Viktimat kanë të drejtë për kompensim.\n\n"
            "Fëmijët kanë të drejtë për një kujdestar dhe për vendime në interesin e tyre më të "
            "mirë.",
            "Žrtve trgovine ljudima imaju pravo na bezbedan smeštaj, medicinsku i psihološku "
            "pomoć, prevodioca i besplatnu pravnu pomoć.\n\n"
            "Imaju pravo na period oporavka i razmišljanja od najmanje 30 dana, čak i ako ne "
            "sarađuju sa policijom. Pomoć ne zavisi od svedočenja.\n\n"
            "Strane žrtve mogu dobiti boravišnu dozvolu i pomoć za bezbedan povratak. Žrtve "
            "imaju pravo na naknadu štete.\n\n"
            "Deca imaju pravo na staratelja i na odluke u njihovom najboljem interesu.",
            "Victims of trafficking have the right to safe accommodation, medical and "
            "psychological care, an interpreter and free legal aid.\n\n"
            "They have the right to a recovery and reflection period of at least 30 days, even "
            "if they do not cooperate with the police. Help does not depend on testifying.\n\n"
            "Foreign victims can receive a residence permit and help to return safely. Victims "
            "have the right to compensation.\n\n"
            "Children have the right to a guardian and to decisions in their best interests.",
        ),
    ),
    (
        "get-help",
        4,
        ("Ku të gjesh ndihmë", "Gde potražiti pomoć", "Where to get help"),
        (
            "Në rrezik të menjëhershëm: telefononi policinë në {emergency}.\n\n"
            "Linja kundër trafikimit: {hotline}. Thirrja është falas dhe mund të mbetet "
            "anonime.\n\n"
            "Ndihmë ofrojnë strehimore të sigurta të shtetit dhe të organizatave joqeveritare, "
            "Zyra për Mbrojtjen dhe Ndihmën e Viktimave, qendrat për punë sociale dhe "
            "shërbimet shëndetësore. Adresat e strehimoreve nuk publikohen, për sigurinë e "
            "atyre që strehohen aty: linja ju lidh me to.",
            "U neposrednoj opasnosti: pozovite policiju na {emergency}.\n\n"
            "Linija protiv trgovine ljudima: {hotline}. Poziv je besplatan i može ostati "
            "anoniman.\n\n"
            "Pomoć pružaju bezbedna skloništa države i nevladinih organizacija, Kancelarija za "
            "zaštitu i pomoć žrtvama, centri za socijalni rad i zdravstvene službe. Adrese "
            "skloništa se ne objavljuju, radi bezbednosti onih koji su tamo: linija vas povezuje "
            "sa njima.",
            "In immediate danger: call the police on {emergency}.\n\n"
            "Anti-trafficking hotline: {hotline}. The call is free and can stay anonymous.\n\n"
            "Help is given by state and NGO shelters, the Victim Protection and Assistance "
            "Office, the centres for social work and health services. Shelter addresses are "
            "never published, for the safety of those staying there: the hotline connects you.",
        ),
    ),
    (
        "how-to-report",
        5,
        ("Si të raportosh", "Kako prijaviti", "How to report"),
        (
            "Nëse dyshoni se dikush është i trafikuar, mund ta raportoni këtu në internet pa "
            "dhënë emrin tuaj, ose në linjën {hotline}.\n\n"
            "Shkruani çfarë keni parë, ku dhe kur. Nuk keni nevojë të jeni të sigurt: "
            "profesionistët do ta vlerësojnë.\n\n"
            "Do të merrni një kod dhe një fjalëkalim për të lexuar përgjigjen tonë dhe për të "
            "shtuar informacion, pa u identifikuar kurrë. Mos u përballni vetë me trafikantët.",
            "Ako sumnjate da je neko žrtva trgovine ljudima, možete to prijaviti ovde preko "
            "interneta bez navođenja imena, ili na liniji {hotline}.\n\n"
            "Napišite šta ste videli, gde i kada. Ne morate biti sigurni: stručnjaci će to "
            "proceniti.\n\n"
            "Dobićete kod i lozinku da pročitate naš odgovor i dodate informacije, a da se "
            "nikada ne identifikujete. Ne suočavajte se sami sa trgovcima ljudima.",
            "If you suspect someone is being trafficked, you can report it here online without "
            "giving your name, or on the hotline {hotline}.\n\n"
            "Write what you saw, where and when. You do not need to be sure: professionals will "
            "assess it.\n\n"
            "You will receive a code and a passphrase to read our answer and add information, "
            "without ever identifying yourself. Do not confront traffickers yourself.",
        ),
    ),
]


def load_default_pages(page_model) -> int:
    """Create the starting pages that do not exist yet. Returns how many were created."""
    created = 0
    for slug, order, titles, bodies in PAGES:
        _page, made = page_model.objects.get_or_create(
            slug=slug,
            defaults={
                "order": order,
                "title_sq": titles[0],
                "title_sr": titles[1],
                "title_en": titles[2],
                "body_sq": bodies[0],
                "body_sr": bodies[1],
                "body_en": bodies[2],
            },
        )
        created += made
    return created
