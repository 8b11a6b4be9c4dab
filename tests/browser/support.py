"""What the browser tests share: the one way to start Chromium, and for the accessibility and
keyboard tests axe-core from node_modules (never a CDN), the themes, and signing in without
reading the form's labels, which are in the page's language."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connections
from playwright.sync_api import Browser, Page, expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
# Debian's Chromium, never a downloaded one, without the sandbox and GPU a container lacks, and
# quiet on the network (no QUIC, background requests, updates or sync): what a page sends is all.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every person the browser tests create signs in with it.
PASSWORD = "browser-test-password"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# What blocks someone from using a page; axe's "moderate" and "minor" are reported, not failed.
BLOCKING = ("serious", "critical")

THEMES = ("light", "dark")
LANGUAGES = {"en": "en-US", "de": "de-DE"}


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium for the block; missing, the test fails: it must not skip."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # While Playwright's loop runs, Django sees an async context and gives the ORM calls
            # made meanwhile connections of their own: closed now, while they can still be reached,
            # or the test database cannot be dropped.
            connections.close_all()


def axe_source() -> str:
    """axe-core as package-lock.json pins it. Missing, the test fails: it must not skip."""
    assert AXE.exists(), f"{AXE} is missing: `make test` installs it (npm ci), or run `npm ci` once"
    return AXE.read_text()


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Through the sign-in form, in whatever language it speaks."""
    page.goto("/accounts/login/")
    page.locator("#id_username").type(username)
    page.locator("#id_password").type(password)
    page.locator("#id_password").press("Enter")
    expect(page.locator(".whoami")).to_be_visible()


def show_theme(page: Page, theme: str) -> None:
    """Put the page in `theme`, whatever the signed-in person chose: the context's colour scheme
    answers `prefers-color-scheme` for "auto", the attribute forces it for the rest."""
    scheme = page.evaluate(
        """theme => {
            document.documentElement.dataset.theme = theme;
            return getComputedStyle(document.documentElement).colorScheme;
        }""",
        theme,
    )
    assert scheme == theme, f"the page shows colour scheme {scheme!r}, not {theme!r}"


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations on the page as it is now (WCAG 2.1 A and AA, and best practice)."""
    return page.evaluate(
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
            .then(results => results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), impact: n.impact, summary: n.failureSummary})),
            })))""",
        AXE_TAGS,
    )


# What axe does not measure: control borders, focus rings, disabled buttons, progress bars.
UI_COLOURS = (Path(__file__).parent / "ui_colours.js").read_text()


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two computed colours ("rgb(r, g, b)")."""

    def luminance(colour: str) -> float:
        channels = [int(value) / 255 for value in re.findall(r"\d+", colour)[:3]]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def ui_contrast_problems(page: Page) -> list[str]:
    """The controls, focus rings and progress bars on the page that stand out too little."""
    problems = []
    for pair in page.evaluate(UI_COLOURS):
        if pair["fg"] == "no outline":
            problems.append(f"{pair['what']} {pair['element']}: none shown on focus")
            continue
        ratio = contrast(pair["fg"], pair["bg"])
        if ratio < pair["need"]:
            colours = f"{pair['fg']} on {pair['bg']}"
            problems.append(f"{pair['what']} {pair['element']}: {colours} is {ratio:.2f}:1, needs {pair['need']}:1")
    return problems


def describe(where: str, violation: dict, nodes: int = 3) -> str:
    """One violation, readably: where, rule, impact, what it checks, the first few elements."""
    lines = [f"{where}: {violation['id']} ({violation['impact']}) {violation['help']}"]
    for node in violation["nodes"][:nodes]:
        summary = " ".join((node["summary"] or "").split())
        lines.append(f"    {node['target']}: {summary}")
    if len(violation["nodes"]) > nodes:
        lines.append(f"    … and {len(violation['nodes']) - nodes} more")
    return "\n".join(lines)
