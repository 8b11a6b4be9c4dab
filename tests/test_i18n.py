"""German and English, held by the suite (issue 18):

- no template shows a person text that cannot be translated (outside `{% translate %}` and
  `{% blocktranslate %}`, in the text or in the attributes people read or hear);
- the German catalogues hold every message the code marks, none empty or fuzzy;
- the compiled catalogues (.mo, committed beside the .po, as Django itself does) are those of
  the .po files, so what runs is what was reviewed;
- the pages speak German to a German browser.

The catalogue checks run GNU gettext (xgettext, msgmerge, msgattrib, msgfmt), as Django's
makemessages does: missing, they fail with the package to install, never skip.
"""

import gettext
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parents[1]
# Directories whose templates and code hold no user-facing text, or are not the console's.
NOT_CONSOLE = {".venv", "node_modules", "var", ".git", "tests", "benchmarks", "simulator", "cli", "docs"}
GETTEXT_TOOLS = ("xgettext", "msgmerge", "msgattrib", "msgfmt")

# Words the same in every language: product and technical names, units. Anything else a
# template shows in plain text must be marked for translation.
UNTRANSLATED_WORDS = {
    "GeminiDB",
    "Cassandra",
    "API",
    "CSV",
    "JSON",
    "IAM",
    "UTC",
    "ID",
    "URL",
    "HTTP",
    "HTTPS",
    "Slack",
    "Webhook",
    "Microsoft",
    "Teams",
    "TLS",
    "SMTP",
    "KB",
    "MB",
    "GB",
    "TB",
    "min",
    "ms",
    "Deutsch",  # each language is offered in its own name
    "English",
}
# The attributes people read (tooltips, placeholders) or hear (screen readers).
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "aria-description", "alt", "aria-roledescription"}
# Filters whose literal argument is shown to people: `{{ x|default:"Never" }}` must be `default:_("Never")`.
SHOWN_FILTER_ARGUMENT = re.compile(r"\|(default|default_if_none|yesno|pluralize):\"([^\"]*[A-Za-z]{2,}[^\"]*)\"")
WORD = re.compile(r"[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß'\u2019-]+")
HOLE = "\x00"  # stands for whatever the template engine puts there


def console_templates() -> list[Path]:
    found = []
    for path in sorted(ROOT.rglob("*.html")):
        parts = path.relative_to(ROOT).parts
        if "templates" in parts and not NOT_CONSOLE.intersection(parts):
            found.append(path)
    return found


def untranslated_texts(source: str) -> list[str]:
    """The texts of a template a person would meet untranslated: HTML text and read attributes
    outside the translation tags, and literal filter arguments that are shown."""
    found = []
    kept = []
    inside = None  # the closing tag of a block whose content is translated or not shown
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if inside:
                if name == inside:
                    inside = None
                kept.append(HOLE)
                continue
            if name in ("blocktranslate", "blocktrans"):
                inside = "endblocktranslate" if name == "blocktranslate" else "endblocktrans"
            elif name == "comment":
                inside = "endcomment"
            kept.append(HOLE)
        elif inside:
            continue
        elif token.token_type == TokenType.VAR:
            found += [match.group(2) for match in SHOWN_FILTER_ARGUMENT.finditer(token.contents)]
            kept.append(HOLE)
        elif token.token_type == TokenType.TEXT:
            kept.append(token.contents)
    collector = _TextCollector()
    collector.feed("".join(kept))
    collector.close()
    return found + [f"{where}{text}" for where, text in collector.texts if _has_words(text)]


def _has_words(text: str) -> bool:
    return any(word not in UNTRANSLATED_WORDS for word in WORD.findall(text.replace(HOLE, " ")))


class _TextCollector(HTMLParser):
    """Text nodes and read attributes; not what sits in <code>, <kbd>, <script> or <style>
    (identifiers, commands, code), which stay as they are in every language."""

    VERBATIM = {"code", "kbd", "samp", "script", "style", "pre"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[tuple[str, str]] = []  # (attribute= or "", text)
        self.verbatim = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.VERBATIM:
            self.verbatim += 1
        is_button = dict(attrs).get("type") in ("submit", "button", "reset")
        for name, value in attrs:
            if value and (name in READ_ATTRIBUTES or (name == "value" and is_button)):
                self.texts.append((f"{name}=", value))

    def handle_startendtag(self, tag, attrs):
        verbatim = self.verbatim
        self.handle_starttag(tag, attrs)
        self.verbatim = verbatim

    def handle_endtag(self, tag):
        if tag in self.VERBATIM and self.verbatim:
            self.verbatim -= 1

    def handle_data(self, data):
        if not self.verbatim and data.strip():
            self.texts.append(("", data.strip()))


def test_the_lint_finds_untranslated_text():
    """The check below can fail: it sees text, attributes and shown filter arguments, and not
    what is translated, commented out or code."""
    source = """{% load i18n %}<p title="Exact time">Never backed up</p>
    <input placeholder="{% translate 'Name' %}"><button type="submit" aria-label="Close">&times;</button>
    {{ backup.size|default:"unknown" }} {{ name|default:_("unnamed") }}
    {% translate "Create backup" %} {% blocktranslate %}Backup {{ name }} started{% endblocktranslate %}
    {% comment %}Not shown{% endcomment %}{# nor this #}<code>make run</code> GeminiDB · {{ count }} GB
    """
    assert sorted(untranslated_texts(source)) == sorted(
        ["title=Exact time", "Never backed up", "aria-label=Close", "unknown"]
    )


@pytest.mark.parametrize("template", console_templates(), ids=lambda path: str(path.relative_to(ROOT)))
def test_templates_have_no_untranslated_text(template: Path):
    assert untranslated_texts(template.read_text()) == []


def _gettext_tools() -> None:
    missing = [tool for tool in GETTEXT_TOOLS if not shutil.which(tool)]
    assert not missing, f"GNU gettext is missing ({', '.join(missing)}): apt-get install -y gettext"


def _german_catalogues(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("locale/de/LC_MESSAGES/*.po")
        if not NOT_CONSOLE.intersection(path.relative_to(root).parts)
    )


def _gettext(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    """A copy of the console's sources with every catalogue brought up to date from the code,
    as `make messages` does: a message the code marks and the committed catalogue lacks comes
    out untranslated."""
    _gettext_tools()
    copy = tmp_path_factory.mktemp("sources") / "console"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_CONSOLE, "*.pyc", "__pycache__"))
    ignores = [argument for name in sorted(NOT_CONSOLE - {".venv", ".git"}) for argument in ("--ignore", name)]
    for domain in ("django", "djangojs"):
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "--locale", "de", "--domain", domain, *ignores],
            cwd=copy,
            check=True,
            capture_output=True,
            env={**os.environ, "DEBUG": "true", "PYTHONPATH": str(copy)},
        )
    return copy


def test_there_are_german_catalogues():
    catalogues = [path.relative_to(ROOT).as_posix() for path in _german_catalogues(ROOT)]
    assert "locale/de/LC_MESSAGES/django.po" in catalogues
    assert {"backups", "access", "restores", "notifications"} <= {path.split("/")[0] for path in catalogues}


def test_the_german_catalogues_hold_every_message(extracted: Path):
    incomplete = {}
    for catalogue in _german_catalogues(extracted):
        untranslated = _gettext("msgattrib", "--untranslated", "--no-obsolete", "--no-wrap", str(catalogue))
        fuzzy = _gettext("msgattrib", "--only-fuzzy", "--no-obsolete", "--no-wrap", str(catalogue))
        missing = re.findall(r'^msgid "(.+)"$', untranslated + fuzzy, flags=re.MULTILINE)
        if missing:
            incomplete[catalogue.relative_to(extracted).as_posix()] = missing
    assert incomplete == {}, "German messages missing (run `make messages`, translate, commit): " + repr(incomplete)


def test_the_compiled_catalogues_are_those_of_the_po_files(tmp_path: Path):
    _gettext_tools()
    stale = []
    for catalogue in _german_catalogues(ROOT):
        compiled = catalogue.with_suffix(".mo")
        fresh = tmp_path / f"{len(stale)}-{catalogue.stem}.mo"
        _gettext("msgfmt", "--check-format", "-o", str(fresh), str(catalogue))
        with fresh.open("rb") as expected_file:
            expected = gettext.GNUTranslations(expected_file)._catalog  # type: ignore[attr-defined]
        if not compiled.exists():
            stale.append(f"{compiled.relative_to(ROOT)} is missing")
            continue
        with compiled.open("rb") as compiled_file:
            actual = gettext.GNUTranslations(compiled_file)._catalog  # type: ignore[attr-defined]
        if actual != expected:
            stale.append(f"{compiled.relative_to(ROOT)} is not compiled from its .po")
    assert stale == [], "Run `make messages` and commit the .mo files: " + "; ".join(stale)


def test_a_german_browser_gets_german_pages(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    assert 'lang="de"' in response.text
    assert "Anmelden" in response.text

    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert english["Content-Language"] == "en"
    assert "Sign in" in english.text
