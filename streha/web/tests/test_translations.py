"""The translation catalogues: complete, well-formed, and actually used by Django.

No database needed. The .mo files are normally compiled by `make install`; the module fixture
compiles them again so the tests also pass straight after editing a .po file.
"""

import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

STREHA_DIR = Path(__file__).resolve().parents[2]
LOCALE_DIR = STREHA_DIR / "locale"
THIRDPARTY_DIR = STREHA_DIR / "locale_thirdparty"

# Languages that must be fully translated (English is the source language).
NPLURALS = {"sq": 2, "sr_Latn": 3}
TRANSLATED = sorted(NPLURALS)

PROJECT_CATALOGUES = [LOCALE_DIR / lang / "LC_MESSAGES" / "django.po" for lang in TRANSLATED]
THIRDPARTY_CATALOGUES = sorted(THIRDPARTY_DIR.glob("*/LC_MESSAGES/*.po"))
ALL_CATALOGUES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")) + THIRDPARTY_CATALOGUES

# %(name)s, %d, %5.2f ... but not the literal "%%".
PERCENT_PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]+)\))?[#0 +\-]*(?:\*|\d+)?(?:\.\d+)?[diouxXeEfFgGcrsa]"
)
# {name}, {0}, {}, {name!r:>10} ... but not the escaped "{{" / "}}".
BRACE_PLACEHOLDER = re.compile(r"(?<!\{)\{(?P<name>[A-Za-z_0-9]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def _catalogue_id(path: Path) -> str:
    return str(path.relative_to(STREHA_DIR))


def _placeholders(text: str, flags: list[str]) -> Counter:
    found: Counter = Counter()
    if "python-format" in flags:
        found.update(m.group(0) for m in PERCENT_PLACEHOLDER.finditer(text.replace("%%", "")))
    if "python-brace-format" in flags:
        found.update(f"{{{m.group('name')}}}" for m in BRACE_PLACEHOLDER.finditer(text))
    return found


def tr(msgid: str) -> str:
    # Not named gettext/_: makemessages must not copy this file's strings into the catalogues.
    return translation.gettext(msgid)


def ntr(singular: str, plural: str, number: int) -> str:
    return translation.ngettext(singular, plural, number)


def _label(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt + ' | ' if entry.msgctxt else ''}{entry.msgid!r}"


@pytest.fixture(scope="module")
def compiled_catalogues(tmp_path_factory):
    """Compile every .po under LOCALE_PATHS, then make Django forget catalogues it has loaded.

    The command compiles copies of the catalogues; each .mo then replaces the one beside its .po
    through a rename, so another test process (`make test` runs several) reading a catalogue at
    that moment gets the old file or the new one, never a half-written one.
    """
    staging = tmp_path_factory.mktemp("locale")
    originals = list(dict.fromkeys([*map(Path, settings.LOCALE_PATHS), THIRDPARTY_DIR]))
    copies = [staging / str(n) for n in range(len(originals))]
    for original, copy in zip(originals, copies, strict=True):
        shutil.copytree(original, copy, ignore=shutil.ignore_patterns("*.mo"))
    with override_settings(LOCALE_PATHS=[str(copy) for copy in copies]):
        call_command("compiletranslations", verbosity=0)
    for original, copy in zip(originals, copies, strict=True):
        for compiled in sorted(copy.glob("*/LC_MESSAGES/*.mo")):
            target = original / compiled.relative_to(copy)
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            shutil.copyfile(compiled, partial)
            os.replace(partial, target)
    # Changing LOCALE_PATHS fires setting_changed, whose handler empties Django's translation
    # caches (trans_real._translations, _default, _active); leaving the block does so again.
    with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
        yield


@pytest.mark.parametrize("path", ALL_CATALOGUES, ids=_catalogue_id)
def test_catalogue_header_is_valid(path):
    po = polib.pofile(str(path))
    language = path.parents[1].name
    assert po.metadata.get("Language") == language
    assert "charset=UTF-8" in po.metadata.get("Content-Type", "")
    plural_forms = po.metadata.get("Plural-Forms", "")
    if language in NPLURALS:
        assert f"nplurals={NPLURALS[language]};" in plural_forms.replace(" ", "")
    assert not po.metadata_is_fuzzy, "the header is marked fuzzy"


@pytest.mark.parametrize("path", ALL_CATALOGUES, ids=_catalogue_id)
def test_catalogue_compiles_with_polib(path, tmp_path):
    polib.pofile(str(path)).save_as_mofile(str(tmp_path / "django.mo"))


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs GNU gettext (msgfmt)")
@pytest.mark.parametrize("path", ALL_CATALOGUES, ids=_catalogue_id)
def test_catalogue_passes_msgfmt_check(path):
    msgfmt = shutil.which("msgfmt")
    result = subprocess.run(  # noqa: S603 - a fixed tool on a file of this repository
        [msgfmt, "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "path",
    PROJECT_CATALOGUES + [p for p in THIRDPARTY_CATALOGUES if p.parents[1].name in NPLURALS],
    ids=_catalogue_id,
)
def test_catalogue_is_fully_translated(path):
    po = polib.pofile(str(path))
    nplurals = NPLURALS[path.parents[1].name]
    untranslated = [_label(e) for e in po.untranslated_entries() if not e.obsolete]
    fuzzy = [_label(e) for e in po.fuzzy_entries()]
    wrong_plural_count = [
        _label(e) for e in po if e.msgid_plural and len(e.msgstr_plural) != nplurals
    ]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    assert not wrong_plural_count, f"need {nplurals} plural forms: {wrong_plural_count}"


@pytest.mark.parametrize("path", PROJECT_CATALOGUES + THIRDPARTY_CATALOGUES, ids=_catalogue_id)
def test_placeholders_are_kept(path):
    po = polib.pofile(str(path))
    problems = []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            # Every form (Serbian uses its "one" form for 21, 31, ... too) keeps every placeholder.
            expected = set(
                _placeholders(entry.msgid, entry.flags)
                + _placeholders(entry.msgid_plural, entry.flags)
            )
            for index, form in sorted(entry.msgstr_plural.items()):
                if set(_placeholders(form, entry.flags)) != expected:
                    problems.append(f"{_label(entry)} [form {index}]: {form!r}")
        elif _placeholders(entry.msgid, entry.flags) != _placeholders(entry.msgstr, entry.flags):
            problems.append(f"{_label(entry)}: {entry.msgstr!r}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def test_placeholder_check_catches_mistakes():
    flags = ["python-format"]
    assert _placeholders("Hello %(name)s, 100%% of %d", flags) == Counter({"%(name)s": 1, "%d": 1})
    assert _placeholders("Hi %(nmae)s", flags) != _placeholders("Hi %(name)s", flags)
    assert _placeholders("Key {number} {{x}}", ["python-brace-format"]) == Counter({"{number}": 1})


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext)")
def test_catalogues_contain_every_source_string(tmp_path, monkeypatch):
    """makemessages on a copy of the sources finds no string missing from our catalogues."""
    copy = tmp_path / "streha"
    shutil.copytree(
        STREHA_DIR,
        copy,
        ignore=shutil.ignore_patterns("locale", "locale_thirdparty", "__pycache__", "static"),
    )
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", locale=["en"], verbosity=0)
    extracted = polib.pofile(str(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    wanted = {(e.msgctxt, e.msgid) for e in extracted}
    for language in ["en", *TRANSLATED]:
        po = polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))
        present = {(e.msgctxt, e.msgid) for e in po if not e.obsolete}
        missing = sorted(msgid for _, msgid in wanted - present)
        assert not missing, (
            f"{language}: strings missing from the catalogue; run `make messages` "
            f"and translate them: {missing}"
        )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "sq",
            {
                "My work": "Puna ime",
                "Sign in": "Hyni",
                "Username": "Emri i përdoruesit",
                "Password": "Fjalëkalimi",
                "Sign out": "Dilni",
                "Staff": "Stafi",
            },
        ),
        (
            "sr-latn",
            {
                "My work": "Moj rad",
                "Sign in": "Prijavite se",
                "Username": "Korisničko ime",
                "Password": "Lozinka",
                "Sign out": "Odjavite se",
                "Staff": "Osoblje",
            },
        ),
        ("en", {"My work": "My work", "Sign in": "Sign in", "Staff": "Staff"}),
    ],
)
def test_django_uses_our_catalogues(compiled_catalogues, language, expected):
    with translation.override(language):
        assert {msgid: tr(msgid) for msgid in expected} == expected


def test_placeholders_are_interpolated(compiled_catalogues):
    with translation.override("sq"):
        assert tr("Welcome, %(name)s.") % {"name": "Arta"} == "Mirë se vini, Arta."
    with translation.override("sr-latn"):
        assert tr("Welcome, %(name)s.") % {"name": "Arta"} == "Dobro došli, Arta."


def test_third_party_pages_are_in_albanian(compiled_catalogues):
    """django-allauth ships no Albanian: streha/locale_thirdparty supplies it."""
    assert THIRDPARTY_DIR in [Path(p) for p in settings.LOCALE_PATHS]
    with translation.override("sq"):
        assert tr("Password Reset") == "Rivendosja e fjalëkalimit"
        assert tr("Are you sure you want to sign out?") == ("Jeni të sigurt që doni të dilni?")
        assert tr("Activate Authenticator App") == ("Aktivizoni aplikacionin e vërtetimit")
        assert (
            tr("The username and/or password you specified are not correct.")
            == "Emri i përdoruesit dhe/ose fjalëkalimi që keni dhënë nuk janë të sakta."
        )
        singular, plural = (
            "You have added %(count)s security key.",
            "You have added %(count)s security keys.",
        )
        assert ntr(singular, plural, 1) % {"count": 1} == ("Keni shtuar 1 çelës sigurie.")
        assert ntr(singular, plural, 3) % {"count": 3} == ("Keni shtuar 3 çelësa sigurie.")
        # Django's own Albanian catalogue still answers for form errors.
        assert tr("This field is required.") != "This field is required."
    with translation.override("sr-latn"):
        # allauth's Serbian catalogue, with our corrections on top.
        assert tr("Password Reset") == "Resetovanje lozinke"
        assert tr("Hello from %(site_name)s!") == "Pozdrav od %(site_name)s!"
        # Three plural forms: 1, 21 / 2-4, 22-24 / 5-20, 25-30 ...
        singular, plural = (
            "You have added %(count)s security key.",
            "You have added %(count)s security keys.",
        )
        forms = {n: ntr(singular, plural, n) % {"count": n} for n in (1, 3, 5, 21)}
        assert forms == {
            1: "Dodali ste 1 bezbednosni ključ.",
            3: "Dodali ste 3 bezbednosna ključa.",
            5: "Dodali ste 5 bezbednosnih ključeva.",
            21: "Dodali ste 21 bezbednosni ključ.",
        }
