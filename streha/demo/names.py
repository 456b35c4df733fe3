"""Name lists for synthetic people. Common names only, combined at random: no real person."""

ALBANIAN_FEMALE = [
    "Arta", "Blerta", "Donika", "Drita", "Elira", "Fatbardha", "Fjolla", "Gentiana", "Hana",
    "Jehona", "Kaltrina", "Lirie", "Luljeta", "Merita", "Mimoza", "Nora", "Qendresa", "Rina",
    "Saranda", "Shqipe", "Teuta", "Valbona", "Vjosa", "Zana", "Albulena", "Besarta", "Dafina",
    "Egzona", "Erëza", "Flaka", "Liridona", "Njomza", "Rrezarta", "Shpresa", "Vlora", "Ylberina",
]
ALBANIAN_MALE = [
    "Agon", "Albin", "Arben", "Ardit", "Arianit", "Bardh", "Besnik", "Blerim", "Burim", "Driton",
    "Edon", "Fatmir", "Flamur", "Gëzim", "Ilir", "Kushtrim", "Labinot", "Leutrim", "Valon",
    "Petrit", "Shkëlzen", "Visar", "Ylli", "Alban", "Drilon", "Egzon", "Granit", "Jeton",
]
ALBANIAN_FAMILY = [
    "Berisha", "Krasniqi", "Gashi", "Morina", "Shala", "Hoxha", "Kastrati", "Bytyqi", "Rexhepi",
    "Kryeziu", "Hasani", "Thaçi", "Mustafa", "Ahmeti", "Zeqiri", "Halili", "Osmani", "Sylejmani",
    "Bajrami", "Musliu", "Lushtaku", "Hyseni", "Haxhiu", "Sejdiu", "Mehmeti", "Rama", "Kelmendi",
    "Ramadani", "Dervishi", "Haliti", "Ismaili", "Jashari", "Kurti", "Limani", "Maloku", "Avdiu",
]
SERBIAN_FEMALE = [
    "Ana", "Jelena", "Milica", "Marija", "Jovana", "Dragana", "Snežana", "Ivana", "Tamara",
    "Nevena", "Katarina", "Sanja", "Teodora", "Biljana", "Danijela", "Mirjana", "Vesna", "Sofija",
]
SERBIAN_MALE = [
    "Marko", "Nikola", "Stefan", "Miloš", "Nemanja", "Dragan", "Vladimir", "Dušan", "Lazar",
    "Aleksandar", "Goran", "Zoran", "Milan", "Bojan", "Uroš", "Filip", "Srđan", "Vuk",
]
SERBIAN_FAMILY = [
    "Jovanović", "Petrović", "Nikolić", "Marković", "Đorđević", "Stojanović", "Ilić", "Stanković",
    "Pavlović", "Milošević", "Todorović", "Ristić", "Lazić", "Kostić", "Mitić", "Vasić",
    "Simić", "Trajković", "Živković", "Radić",
]
# Roma, Ashkali and Egyptian communities are especially vulnerable; their names are largely
# Albanian or Serbian in form, so they come from the same lists with a community attribute.
FOREIGN = {
    "AL": (["Elona", "Klea", "Ornela", "Megi"], ["Endri", "Klajdi", "Erion"], ["Dema", "Leka", "Prifti", "Cela"]),
    "MD": (["Ana", "Cristina", "Elena", "Olga"], ["Ion", "Vasile", "Andrei"], ["Rusu", "Ceban", "Popa", "Lungu"]),
    "UA": (["Olena", "Iryna", "Natalia", "Oksana"], ["Andrii", "Oleh", "Taras"], ["Kovalenko", "Bondarenko", "Shevchenko"]),
    "RS": (SERBIAN_FEMALE, SERBIAN_MALE, SERBIAN_FAMILY),
    "NG": (["Blessing", "Joy", "Precious", "Favour"], ["Emeka", "Chinedu", "Tunde"], ["Okafor", "Adeyemi", "Eze", "Okonkwo"]),
    "BD": (["Fatema", "Nusrat", "Sadia"], ["Rahim", "Karim", "Hasan"], ["Hossain", "Rahman", "Akter"]),
}
