"""Every HTML response in the web tests is parsed and checked (the notifications-admin idea):
well-formed HTML5, unique ids, a non-empty <title> on whole pages, every input labelled."""
from __future__ import annotations

import html5lib
from html5lib.html5parser import ParseError

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


def check_html(text: str, *, fragment: bool = False):
    # html5lib 1.1 predates <template> parsing; the spec (and htmx 2's out-of-band swaps) let a
    # template hold table rows, which is what Matrica's fragments put there. Check them as
    # rows of a table.
    text = text.replace("<template>", "<table><tbody>").replace("</template>", "</tbody></table>")
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        tree = parser.parseFragment(text) if fragment else parser.parse(text)
    except ParseError as exc:
        line = _context(text, parser)
        raise AssertionError(f"HTML does not parse: {exc} near {line!r}") from None
    ids: dict[str, int] = {}
    for element in tree.iter():
        if isinstance(element.tag, str) and element.get("id"):
            ids[element.get("id")] = ids.get(element.get("id"), 0) + 1
    duplicates = sorted(i for i, n in ids.items() if n > 1)
    assert not duplicates, f"duplicate ids: {duplicates}"
    if not fragment:
        title = tree.find(".//title")
        assert title is not None and (title.text or "").strip(), "page without a <title>"
        html = tree if tree.tag == "html" else tree.find(".//html")
        assert html is not None and html.get("lang"), "<html> without lang"
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "script":
            assert element.get("src") and not (element.text or "").strip(), "inline <script> (CSP forbids it)"
        inline = [name for name in element.keys() if name.lower().startswith("on") or name.lower() == "style"]
        assert not inline, f"inline {inline} on <{element.tag}> (CSP forbids it)"
    labels_for = {label.get("for") for label in tree.iter("label") if label.get("for")}
    parents = {child: parent for parent in tree.iter() for child in parent}
    for element in tree.iter():
        if element.tag not in ("input", "select", "textarea"):
            continue
        if element.tag == "input" and (element.get("type") or "text").lower() in UNLABELLED_TYPES:
            continue
        if element.get("aria-label") or element.get("aria-labelledby") or element.get("title"):
            continue
        if element.get("id") and element.get("id") in labels_for:
            continue
        node = element
        while node in parents:
            node = parents[node]
            if node.tag == "label":
                break
        else:
            raise AssertionError(f"unlabelled <{element.tag} name={element.get('name')!r}>")
    for described in tree.iter():
        refs = described.get("aria-describedby") if isinstance(described.tag, str) else None
        for ref in (refs or "").split():
            assert ref in ids, f"aria-describedby points at missing id {ref!r}"
    return tree


def _context(text: str, parser) -> str:
    try:
        line, _col = parser.errors[0][0]
        return text.splitlines()[line - 1].strip()[:200]
    except (IndexError, TypeError):
        return ""


def parse(text: str):
    """A page as an ElementTree element, to select from (``.find(".//input[@name='a:x']")``)."""
    return html5lib.parse(text, namespaceHTMLElements=False)


def by_id(tree, ident: str):
    return tree.find(f".//*[@id='{ident}']")


def text_of(element) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""
