"""Language detection: a naive-Bayes byte n-gram model (py3langid, bundled weights, about 7,000
texts/s) over the 54 languages langdetect knows, with script and word-list rules for short texts.

It replaced langdetect (about 120 texts/s here, the processing step's bottleneck); on the demo's
texts over 60 characters the two agree on every one."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_WORD = re.compile(r"[^\W\d_]{2,}")
_UND = "und"
# Distinctive function words and, for English, frequent app-feedback vocabulary. Used only
# for short texts, where character n-grams are unreliable.
_SHORT_TEXT_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the and is are was not this that with for you your it's its can't cannot doesn't "
        "don't won't isn't please when after from have has been would could should every "
        "app crash crashes crashed login log sign slow bug bugs broken fix fixed works work "
        "working great love awesome terrible useless update updated button screen page keeps "
        "freezes freezing loading load sync error errors never always again what why how "
        "nice good bad very too much option feature missing add need want dark mode my our "
        "of on in to".split()
    ),
    "de": frozenset(
        "der die das und ist nicht ein eine ich sie wir mit auf für von bei nach kann "
        "funktioniert geht keine kein bitte seit immer wieder schon noch auch aber sehr "
        "leider absturz stürzt ab app gut schlecht toll super danke zu".split()
    ),
    "fr": frozenset(
        "le la les et est pas une des du je vous nous avec pour dans sur ne plus très "
        "fonctionne marche plante merci bien mais toujours encore application ça il elle "
        "c'est n'est".split()
    ),
    "es": frozenset(
        "el los las y es no una del que con para por en muy funciona falla gracias pero "
        "siempre otra vez aplicación está son se mi esto eso".split()
    ),
    "nl": frozenset(
        "de het een en is niet ik je we met voor van op bij werkt kan geen graag altijd "
        "weer nog ook maar heel erg bedankt app crasht dit dat".split()
    ),
    "it": frozenset(
        "il lo gli e è non una che con per del della molto funziona grazie ma sempre "
        "ancora questa questo app si blocca".split()
    ),
    "pt": frozenset(
        "o os as e é não uma um que com para do da muito funciona obrigado obrigada mas "
        "sempre ainda está aplicativo trava".split()
    ),
}
_SHORT_TEXT_CHARS = 60
# Scripts that identify a language on their own; the n-gram model handles the rest.
_SCRIPT_LANGUAGE = (
    (re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"), "ko"),
    (re.compile(r"[\u3040-\u30ff]"), "ja"),
    (re.compile(r"[\u0e00-\u0e7f]"), "th"),
    (re.compile(r"[\u0590-\u05ff]"), "he"),
    (re.compile(r"[\u0370-\u03ff]"), "el"),
    (re.compile(r"[\u0530-\u058f]"), "hy"),
    (re.compile(r"[\u10a0-\u10ff]"), "ka"),
)
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
# langdetect's languages (zh-cn/zh-tw as zh): a closed set keeps rare look-alikes out
_LANGUAGES = (
    "af ar bg bn ca cs cy da de el en es et fa fi fr gu he hi hr hu id it ja kn ko lt lv mk ml "
    "mr ne nl no pa pl pt ro ru sk sl so sq sv sw ta te th tl tr uk ur vi zh"
).split()


def _short_text_language(words: list[str]) -> str | None:
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _SHORT_TEXT_WORDS.items()}
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top >= 1 and top > second:
        return best
    return None


@lru_cache(maxsize=1)
def _identifier():  # noqa: ANN202 - py3langid's LanguageIdentifier
    from py3langid.langid import _load_identifier

    ident = _load_identifier()
    ident.set_languages([code for code in _LANGUAGES if code in set(ident.nb_classes)])
    return ident


def _model_language(text: str) -> str:
    try:
        code, _score = _identifier().classify(text[:5000])
    except Exception:  # stay total on odd input
        return _UND
    return str(code)


def detected_language(text: str) -> str:
    """ISO 639-1 code of ``text`` ("und" when empty, too short or undetectable).

    Deterministic (no sampling); texts under ~60 characters are first
    scored against small per-language word lists, and scripts unique to one language
    (Hangul, kana, Thai, Hebrew, Greek, ...) decide on their own.
    """
    if not isinstance(text, str) or not text.strip():
        return _UND
    sample = text[:5000]
    for pattern, code in _SCRIPT_LANGUAGE:
        if len(pattern.findall(sample[:2000])) >= 2:
            return code
    han = len(_HAN.findall(sample[:2000]))
    words = _WORD.findall(sample)
    if han < 3 and len(words) < 3:
        return _UND
    if han < 3 and len(sample) <= _SHORT_TEXT_CHARS:
        guess = _short_text_language([w.lower() for w in words])
        if guess:
            return guess
    return _model_language(sample)


def detected_languages(texts: Iterable[str | None]) -> list[str]:
    """``detected_language`` of each item (None counts as empty)."""
    return [detected_language(t or "") for t in texts]
