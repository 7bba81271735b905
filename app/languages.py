"""The interface languages (pure data: services, workers and commands read it without a request).

``cnr`` (Montenegrin) has no CLDR data: Babel parses it as ``sr_Latn_ME``, so its catalogue lives
under ``translations/sr_Latn_ME`` and dates and numbers are formatted as ``sr_Latn_ME``.
"""

# code → (name in its own language, Babel locale used for catalogue and formatting)
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "en"),
    "sq": ("Shqip", "sq"),
    "sr_Latn": ("Srpski (latinica)", "sr_Latn"),
    "sr_Cyrl": ("Српски (ћирилица)", "sr_Cyrl"),
    "mk": ("Македонски", "mk"),
    "bs": ("Bosanski", "bs"),
    "hr": ("Hrvatski", "hr"),
    "cnr": ("Crnogorski", "sr_Latn_ME"),
}
DEFAULT_LANGUAGE = "en"
