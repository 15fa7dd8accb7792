"""Run axe-core in a Playwright page and report its WCAG 2.0-2.2 A and AA violations.

axe-core comes from the PyPI package axe-playwright-python (pinned in requirements.txt), which ships
axe.min.js inside the wheel: nothing is fetched at run time. Only its bundled script is used; it is
injected and run here directly, so that the context and options reach axe.run as real JSON.

What is checked, "the app's own markup": the whole document as it stands once the script has
finished running: the main block our pages render, the sidebar (our caption, "Signed in as", the
sign-out button and st.navigation's menu) and Streamlit's header and toolbar. Streamlit renders
all of it from our pages, our theme and our config, so all of it is checked unless excluded below.
Only what is rendered can be judged: at phone width the sidebar is collapsed, so it is checked at
laptop width; tabs other than the selected one, and closed expanders and popovers, are not shown.

The page scrolls inside Streamlit's main block, not the window, and there axe judges the rules
that need a node's place on screen (contrast, target size) only in the viewport: below the fold it
passes them without looking. So for the audit the viewport keeps its width and is stretched to the
page's full length, and is then put back. Streamlit lays out by width alone: every node in the main
block keeps its position and size (compared node by node on the overview, public, branch status
and admin pages at both widths when this was written).

Some text axe cannot judge for contrast and reports only as "incomplete" (neither failed nor
checked here): the sidebar's text at laptop width (axe says it "is overlapped by another element",
though document.elementsFromPoint finds the text on top), tab labels ("pseudo element") and the
text of plotly charts (drawn under plotly's own layers). The sidebar's faintest text, st.caption,
is covered by the theme: its caption colour (textColor at 60% opacity) gives 4.84:1 on the
sidebar's background.

Exclusions (RULE_EXCLUSIONS) are for Streamlit framework markup that fails a rule while nothing
the app does (pages, theme, config) can change it: each names its rule, the exact selector and,
in a comment, why. There are none today: every violation found so far was fixable in the theme.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")

# rule id -> selectors of framework nodes that rule skips, each with a comment saying why
# (see the module docstring). Empty: nothing in Streamlit's own markup fails that we cannot fix.
RULE_EXCLUSIONS: dict[str, tuple[str, ...]] = {}

SCROLLER = "[data-testid=stMain]"  # the element that scrolls the page

_AXE_SCRIPT = Axe().axe_script  # the axe.min.js bundled in the wheel

# One axe pass; then the nodes listed in RULE_EXCLUSIONS are dropped from the violations of that
# rule only (the same nodes still count for every other rule, and still count as neighbours and
# backgrounds of other nodes). Returns plain data: no element handles.
_RUN = """async ([tags, exclusions]) => {
    const results = await axe.run(document, {
        runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'], elementRef: true,
    });
    return results.violations.map(v => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes
            .filter(n => !(exclusions[v.id] || []).some(s => n.element && n.element.matches(s)))
            .map(n => ({target: n.target, html: n.html, summary: n.failureSummary || ''})),
    })).filter(v => v.nodes.length);
}"""

# How tall the viewport must be for the whole page to fit, once two frames have been drawn.
_PAGE_LENGTH = """async (selector) => {
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const el = document.querySelector(selector);
    return el ? Math.ceil(el.scrollHeight + el.getBoundingClientRect().top) : 0;
}"""


def axe_violations(page) -> list[dict]:
    """axe's violations of the WCAG 2.0-2.2 A/AA rules on the whole page as it is now.

    Each is {id, impact, help, helpUrl, nodes: [{target, html, summary}]}, where target is axe's
    CSS selector path to the node and summary its "Fix any of the following" text. An empty list
    is a pass. axe runs once, with the viewport stretched to the page's length (see above). The
    excluded nodes (RULE_EXCLUSIONS) are left out of their one rule's violations.
    """
    size = page.viewport_size
    try:
        for _ in range(3):  # until the page fits (a stretch can lengthen it)
            length = page.evaluate(_PAGE_LENGTH, SCROLLER)
            if length <= page.viewport_size["height"]:
                break
            page.set_viewport_size({"width": size["width"], "height": length})
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(_AXE_SCRIPT)
        exclusions = {rule: list(selectors) for rule, selectors in RULE_EXCLUSIONS.items()}
        return page.evaluate(_RUN, [list(WCAG_TAGS), exclusions])
    finally:
        page.set_viewport_size(size)


def format_violations(violations: list[dict], where: str = "") -> str:
    """The violations as readable text for an assertion message."""
    if not violations:
        return f"{where}: no axe violations" if where else "no axe violations"
    count = sum(len(v["nodes"]) for v in violations)
    head = f"{count} axe violation(s) of {len(violations)} rule(s)"
    lines = [f"{where}: {head}" if where else head]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  [{v['helpUrl']}]")
        for node in v["nodes"]:
            lines.append(f"    at {' '.join(node['target'])}")
            lines.append(f"       {_squash(node['html'], 160)}")
            for reason in node["summary"].splitlines():
                if reason.strip() and not reason.startswith("Fix "):
                    lines.append(f"       {_squash(reason, 240)}")
    return "\n".join(lines)


def _squash(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
