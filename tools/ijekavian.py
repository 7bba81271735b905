"""A first draft of Montenegrin text from reviewed Serbian Latin, for a translator to review.

Montenegrin administrative language uses the Serbian administrative vocabulary (izaberite,
prevod, bezbjednost, pol, uzrast, opština) with the ijekavian reflex of jat (vrijeme, mjesto,
dio, sljedeći) and its own negation (nijesu). The draft applies the word and stem lists in
``ijekavian.json`` — made from the words the catalogues and questionnaires use, checked
against the Bosnian and Croatian texts — and nothing else: a word it does not know stays as it
is. ``${name}`` and ``%(name)s`` placeholders are never touched.
"""
from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

WORD = re.compile(r"[^\W\d_]+")
PLACEHOLDER = re.compile(r"(%\(\w+\)[sd]|\$\{[^}]*\}|\{[^}]*\})")


@cache
def _lists() -> tuple[dict[str, str], list[tuple[str, str]]]:
    data = json.loads((Path(__file__).with_name("ijekavian.json")).read_text(encoding="utf-8"))
    return data["words"], sorted(data["stems"].items(), key=lambda item: len(item[0]), reverse=True)


def _word(match: re.Match) -> str:
    words, stems = _lists()
    word = match.group()
    lower = word.lower()
    made = words.get(lower)
    if made is None:
        stem = next((stem for stem, _ in stems if lower.startswith(stem)), None)
        if stem is None:
            return word
        made = dict(stems)[stem] + lower[len(stem):]
    if word.isupper() and len(word) > 1:
        return made.upper()
    return made[0].upper() + made[1:] if word[0].isupper() else made


def montenegrin_draft(text: str) -> str:
    parts = PLACEHOLDER.split(text)
    return "".join(part if index % 2 else WORD.sub(_word, part) for index, part in enumerate(parts))
