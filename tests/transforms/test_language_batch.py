"""The batch language detector gives exactly the per-text detector's answers.

``detected_language`` (the rules, then py3langid's own ``classify``) is the reference;
``detected_languages`` runs the same rules and a vectorised DFA walk and naive-Bayes scoring.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py3langid.langid import LanguageIdentifier

from transforms import language, language_model
from transforms.language import detected_language, detected_languages

SENTENCES = [
    # en
    "The new dashboard is much faster, but exporting a report to PDF still times out.",
    "I love the app but it keeps logging me out every time I switch accounts.",
    # de
    "Seit dem letzten Update kann ich mich nicht mehr anmelden, bitte beheben.",
    "Die Synchronisierung mit dem Kalender funktioniert leider überhaupt nicht mehr.",
    # fr
    "L'application plante au démarrage depuis la dernière mise à jour de mon téléphone.",
    "Impossible d'exporter mes factures, le bouton ne réagit plus du tout.",
    # es
    "La aplicación se cierra sola cada vez que intento subir una foto desde la galería.",
    "No puedo cambiar la contraseña, el enlace del correo ya no es válido.",
    # it
    "L'app si blocca quando provo ad aprire le impostazioni del mio profilo utente.",
    # pt
    "O aplicativo trava toda vez que tento enviar uma mensagem para o suporte técnico.",
    # nl
    "Sinds de laatste update werkt de synchronisatie met mijn agenda helemaal niet meer.",
    # pl
    "Aplikacja ciągle się zawiesza po aktualizacji i nie mogę się zalogować do konta.",
    # tr
    "Uygulama son güncellemeden beri sürekli çöküyor, lütfen bu sorunu düzeltin.",
    # sv
    "Appen kraschar varje gång jag försöker öppna inställningarna på min telefon.",
    # fi
    "Sovellus kaatuu aina kun yritän avata asetukset päivityksen jälkeen.",
    # cs
    "Aplikace po poslední aktualizaci neustále padá a nemohu se přihlásit.",
    # hu
    "Az alkalmazás folyamatosan összeomlik a legutóbbi frissítés óta.",
    # ro
    "Aplicația se blochează de fiecare dată când încerc să deschid setările.",
    # vi
    "Ứng dụng bị treo liên tục sau khi cập nhật phiên bản mới nhất.",
    # id
    "Aplikasi terus keluar sendiri setelah pembaruan terakhir, tolong diperbaiki.",
    # ru, uk, bg
    "Приложение постоянно вылетает после обновления, не могу войти в аккаунт.",
    "Застосунок постійно вилітає після оновлення, не можу увійти до облікового запису.",
    "Приложението постоянно се срива след последната актуализация.",
    # ar, fa, hi
    "التطبيق لا يعمل بشكل جيد بعد التحديث الأخير ولا أستطيع تسجيل الدخول",
    "برنامه بعد از آخرین به روز رسانی مدام بسته می شود",
    "नवीनतम अपडेट के बाद ऐप लगातार बंद हो जाता है और मैं लॉग इन नहीं कर पा रहा हूँ",
    # zh, ja, ko, el, he, th (script rules)
    "应用程序在最新更新后一直崩溃，我无法登录我的帐户。",
    "最新のアップデート以降、アプリが起動しません。",
    "최신 업데이트 이후 앱이 계속 멈춰요.",
    "Η εφαρμογή κολλάει συνέχεια μετά την τελευταία ενημέρωση.",
    "האפליקציה קורסת כל הזמן מאז העדכון האחרון",
    "แอปพลิเคชันค้างตลอดเวลาหลังจากอัปเดตล่าสุด",
    # short texts: the word lists decide, or fall through to the model
    "App crashes on login",
    "Die App stürzt ständig ab",
    "La aplicación no funciona",
    "de app werkt niet meer",
    "Bonjour, le export ne marche pas depuis hier",
    "merci pour la app",
    "ok thanks",
    "and app funktioniert",  # word lists tie: the model decides
    "the app marche pas",
    "the le der app",
]

EDGE_CASES = [
    "",
    " ",
    "\n\t  ",
    None,
    "APP CRASHES ON LOGIN EVERY SINGLE TIME I OPEN IT, PLEASE FIX THIS",
    "DIE APP STÜRZT STÄNDIG AB UND ICH KANN MICH NICHT ANMELDEN",
    "😀😀😀",
    "👍👍 🎉",
    "\ud800abc",
    "\ud800abc def ghi jkl mno pqr stu vwx yz and some more words here",
    "abc \udfff def " * 10,
    "1234567890",
    "5.2.1 1234 !!! 42",
    "x" * 20_000,
    "word " * 4_000,
    "日本語のテキストです",
    "中文文本测试一下",
    "한국어 텍스트",
    "mixed English и русский 中文 text with several words",
    "e\u0301te\u0301 cafe\u0301 re\u0301sume\u0301 na\u0131\u0308ve words here",  # NFC changes it
    "ǅemal İstanbul ΣΊΣΥΦΟΣ words",
    "a b c d e f g",
    "ab",
    "ab " + "0123456789 " * 6 + "cd ef",  # over 60 characters, exactly three words
    "ab " + "0123456789 " * 6 + "cd",  # over 60 characters, two words
]


def _synthetic(count: int, seed: int) -> list[str | None]:
    rnd = random.Random(seed)
    pieces = [s for s in SENTENCES + EDGE_CASES if s] + ["123", "!!", "é", "\u0301", "ß", "🙂"]
    texts: list[str | None] = []
    for _ in range(count):
        text = " ".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 6)))
        kind = rnd.random()
        if kind < 0.1:
            text = text.upper()
        elif kind < 0.2:
            text = text[: rnd.randint(0, len(text))]
        elif kind < 0.25:
            text = "".join(chr(rnd.randint(0x20, 0x3000)) for _ in range(rnd.randint(1, 200)))
        elif kind < 0.3:
            text = text * rnd.randint(20, 120)  # long: truncated at 5,000 characters
        texts.append(text)
    return texts


SAMPLE = SENTENCES + EDGE_CASES + _synthetic(400, seed=20260101)


def _reference(texts: list[str | None]) -> list[str]:
    return [detected_language(t or "") for t in texts]


REFERENCE = _reference(SAMPLE)


def test_batch_matches_per_text_reference():
    assert detected_languages(SAMPLE) == REFERENCE
    assert detected_languages(iter(SAMPLE)) == REFERENCE  # any iterable
    assert detected_languages([]) == []
    assert detected_languages([None, 5, b"bytes"]) == ["und", "und", "und"]  # type: ignore[list-item]


def test_sample_exercises_every_path():
    assert len(set(REFERENCE)) >= 20
    needs_model = [t for t in SAMPLE if language._rule_language(t) is None]
    assert (
        len(needs_model) > 4 * language_model._PYTHON_TAIL
    )  # the numpy walk runs, not just Python


def test_vectorised_scores_pick_classify_s_class():
    """The vectorised scoring alone (no fallback) agrees with py3langid's classify."""
    ident = language_model._identifier()
    tables = language_model._tables()
    samples = [t[:5000] for t in SAMPLE if language._rule_language(t) is None]
    chunks = sorted((ident._encode(s) for s in samples), key=len, reverse=True)
    best, unsure = language_model._best_classes(chunks, tables)
    expected = [ident.nb_classes.index(ident.classify(c)[0]) for c in chunks]
    assert not unsure.any()  # nothing left to the exact path on this sample
    assert best.tolist() == expected


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("_PYTHON_TAIL", 0),  # the numpy walk to the last byte
        ("_PYTHON_TAIL", 10**9),  # the Python walk only
        ("_GROUP_CHARS", 300),  # many small groups
        ("_UNIT_ROUNDOFF", 1.0),  # every text "too close to call": the exact path
    ],
)
def test_batch_paths_match_reference(monkeypatch, setting, value):
    monkeypatch.setattr(language_model, setting, value)
    assert detected_languages(SAMPLE) == REFERENCE


def test_texts_classify_rejects_are_und_in_both(monkeypatch):
    encode = LanguageIdentifier._encode

    def picky(text):
        if isinstance(text, str) and len(text) % 3 == 0:
            raise ValueError("unencodable")
        return encode(text)

    monkeypatch.setattr(LanguageIdentifier, "_encode", staticmethod(picky))
    reference = _reference(SAMPLE)
    assert reference != REFERENCE
    assert detected_languages(SAMPLE) == reference


def test_featureless_text_is_class_zero_as_in_classify():
    ident = language_model._identifier()
    best, unsure = language_model._best_classes([b"", b""], language_model._tables())
    assert ident.classify("")[0] == ident.nb_classes[0]
    assert best.tolist() == [0, 0] and not unsure.any()


def test_near_ties_go_to_the_exact_path():
    # py3langid scores " sensi" and "appl" the same for fr and it (argmax: the first), and
    # "a bette", "egin" within 1e-4: closer than float32 rounding can be trusted
    samples = [" sensi", "appl", "a bette", "egin", "x" * 300]
    ident = language_model._identifier()
    chunks = [ident._encode(s) for s in samples]
    order = sorted(range(len(chunks)), key=lambda i: -len(chunks[i]))
    _, unsure = language_model._best_classes([chunks[i] for i in order], language_model._tables())
    assert [unsure[order.index(i)] for i in range(len(samples))] == [True] * 4 + [False]
    assert language_model.model_languages(samples) == [
        language_model.model_language(s) for s in samples
    ]


def test_scores_match_py3langid_s_within_the_rounding_bound():
    ident = language_model._identifier()
    chunks = sorted((ident._encode(s) for s in SENTENCES + EDGE_CASES if s), key=len, reverse=True)
    scores, error, featureless = language_model._class_scores(chunks, language_model._tables())
    reference = np.stack([ident._raw_score(c) for c in chunks])  # float32, as classify's
    assert featureless.tolist() == [not any(f >= 0 for f in _outputs(c)) for c in chunks]
    gap = np.abs(scores.astype(np.float64) - reference)[~featureless].max(axis=1)
    assert (gap <= error[~featureless]).all()
    assert (error[~featureless] < 0.1).all()  # and the bound is tight enough to be useful


def _outputs(chunk: bytes) -> list[int]:
    ident = language_model._identifier()
    state, found = 0, []
    for byte in chunk:
        state = ident.tk_nextmove[ident._rowbase[state] + byte]
        found.append(ident.tk_output[state])
    return found


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(), st.sampled_from(SENTENCES)), max_size=60))
def test_batch_matches_reference_on_any_texts(texts):
    assert detected_languages(texts) == _reference(texts)
