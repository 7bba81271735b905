"""Serbian in two scripts: Cyrillic made from reviewed Latin text (the interface catalogue and a
questionnaire's columns), and the check that no word mixes the two alphabets.

Latin → Cyrillic is not letter by letter: what is code stays as written. Kept are placeholders
(``%(name)s``, ``${name}``, ``{n}``), tags, web and e-mail addresses, tokens with a digit or an
underscore (``form_id``, ``2026-03-31T14:30``), words with a letter Serbian Latin does not have
(``Excel``, ``XLSForm``, ``Français``), code written as a call or a path (``regex()``,
``instance('list')/root/item``), a file's extension, a language code in brackets, the product's name, and words the English source also has that are XLSForm's own
vocabulary (``calculate``, ``score``) or an abbreviation (``CSV``, ``ISO``, country codes) —
except the abbreviations Serbian writes in Cyrillic (``ID``, ``MB``, ``EU``). Where two Latin
letters are two Cyrillic ones and not a digraph (``nadživeti``), the word is spelt out.
Pure: no Flask.
"""
from __future__ import annotations

import re
from collections.abc import Collection

from serbian_translit import srp

SERBIAN_LATIN = set("abcčćdđefghijklmnoprsštuvzžABCČĆDĐEFGHIJKLMNOPRSŠTUVZŽ")
KEPT_AS_WRITTEN = {"Matrica"}          # the product's name, as its logo writes it
CYRILLIC_ABBREVIATIONS = {"ID", "MB", "KB", "EU"}   # written in Cyrillic in Serbian Cyrillic texts
# Two letters that are two sounds, not a digraph, at a prefix boundary or in a loanword.
NOT_DIGRAPHS = {"nadž": "надж", "podž": "подж", "odž": "одж", "injek": "инјек", "konjunk": "конјунк",
                "konjug": "конјуг"}
_TOKEN = re.compile(r"\w+\([^)]*\)(?:/\w+(?:\[[^\]]*\])?)+|%\(\w+\)[sd]|%[sd%]|\$\{[^}]*\}|\{[^}]*\}|<[^>]*>|&#?\w+;|(?:https?://|www\.)[^\s)]+"
                    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|[\w-]+(?:/[\w.-]+)+\.\w+|\w+(?:[.:-]\w+)*")
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\$\{[^}]*\}|\{[^}]*\}")
_CODE_BEFORE, _CODE_AFTER = ".'", "('"   # a file's extension, a quoted name, a function's name
SPELT = {"kB": "кБ"}
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def mixed_words(text: str) -> list[str]:
    """The words of ``text`` written in both alphabets (``Еxцел``), which no reader can trust."""
    return [word for word in WORD.findall(text) if _LATIN.search(word) and _CYRILLIC.search(word)]


def _kept(token: str, text: str, start: int, end: int, english: set[str], code_words: Collection[str]) -> bool:
    if token[0] in "%${<&" or "@" in token or "(" in token or "/" in token or token.startswith(("http://", "https://", "www.")):
        return True
    if any(char.isdigit() or char == "_" for char in token):
        return True
    if any(char.isalpha() and char not in SERBIAN_LATIN for char in token):
        return True
    if token in KEPT_AS_WRITTEN:
        return True
    if (start and text[start - 1] in _CODE_BEFORE) or (end < len(text) and text[end] in _CODE_AFTER):
        return True
    if f"({token})" in english and re.search(rf"(?<!%)\({re.escape(token)}\)", text):   # “Français (fr)”
        return True
    if token in english and (token in code_words or (len(token) > 1 and token.isupper()
                                                     and token not in CYRILLIC_ABBREVIATIONS)):
        return True
    return False


def _word(token: str) -> str:
    if token in SPELT:
        return SPELT[token]
    lower = token.lower()
    for latin, cyrillic in NOT_DIGRAPHS.items():
        at = lower.find(latin)
        if at >= 0:
            spelt = cyrillic.upper() if token[at:at + len(latin)].isupper() else cyrillic
            return _word(token[:at]) + spelt + _word(token[at + len(latin):])
    return srp.to_cyr(token)


def cyrillic_from_latin(text: str, source: str = "", code_words: Collection[str] = ()) -> str:
    """Serbian Latin ``text`` in Cyrillic, with code kept as written. ``source``: the English
    text it translates (a word kept as code must be in it); ``code_words``: the vocabulary of
    the format (column names, types, methods)."""
    source = _PLACEHOLDER.sub(" ", source)   # a placeholder's name is no English word of the text
    english = set(WORD.findall(source)) | set(re.findall(r"\w+(?:[.:-]\w+)*", source)) | \
        set(re.findall(r"\(\w+\)", source))
    out, position = [], 0
    for match in _TOKEN.finditer(text):
        out.append(text[position:match.start()])
        token = match.group()
        kept = _kept(token, text, match.start(), match.end(), english, code_words)
        out.append(token if kept else _word(token))
        position = match.end()
    out.append(text[position:])
    return "".join(out)
