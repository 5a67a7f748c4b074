"""The one string table (:mod:`briefcast.i18n`): complete in both languages, fields that agree,
one argument order that fails loudly when swapped, and every key a call site names exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from briefcast import i18n
from briefcast.i18n import STRINGS, t
from briefcast.i18n.catalog import merge

SRC = Path(__file__).resolve().parent.parent / "src" / "briefcast"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_every_key_has_zh_and_en() -> None:
    missing = sorted(key for key, forms in STRINGS.items() if set(forms) != {"zh", "en"})
    assert missing == []
    empty = sorted(key for key, forms in STRINGS.items() if not forms["en"].strip())
    assert empty == ["where_here"]  # "" on purpose: "Subscribed: …" when the chat is the one asking
    assert i18n.languages_complete()


def test_zh_and_en_have_the_same_placeholders() -> None:
    differ = {
        key: (_fields(forms["zh"]), _fields(forms["en"]))
        for key, forms in STRINGS.items()
        if _fields(forms["zh"]) != _fields(forms["en"])
    }
    assert differ == {}


def test_a_one_variant_has_its_base_key_and_the_same_fields() -> None:
    ones = [key for key in STRINGS if key.endswith("_one")]
    assert len(ones) >= 10
    for key in ones:
        base = key.removesuffix("_one")
        assert base in STRINGS, key
        assert _fields(STRINGS[key]["en"]) == _fields(STRINGS[base]["en"]), key


def test_unknown_language_raises_so_a_swapped_call_fails() -> None:
    with pytest.raises(ValueError, match="unknown language 'xx'"):
        t("xx", "links", n=2)
    with pytest.raises(ValueError, match="unknown language 'links'"):
        t("links", "en", n=2)  # the old render/archive order
    with pytest.raises(ValueError):
        t("", "archive")
    with pytest.raises(KeyError):
        t("en", "no_such_message_key")


def test_language_tags_and_the_one_rule() -> None:
    assert t("zh-CN", "links", n=2) == "🔗 2 个链接"
    assert t("en_US", "links", n=1) == "🔗 1 link"
    assert t("EN", "links", n=3) == "🔗 3 links"
    assert t("en", "upload_sectors", count=1, names="AI") == "1 sector: AI"
    assert t("en", "upload_sectors", count=2, names="AI, Energy") == "2 sectors: AI, Energy"
    assert t("en", "welcome_body").startswith("I deliver") and "{prefix}" in t("en", "welcome_body")


def test_merged_keys_keep_every_text() -> None:
    # same key, different text in two of the old tables: one of them was renamed, no text changed
    assert t("zh", "no_takeaways") == "本期没有要点总结。"  # the bot's reply
    assert t("zh", "takeaways_none") == "本期没有总结要点。"  # the composer's document body
    assert t("en", "links", n=2) == "🔗 2 links" and t("en", "archive_links") == "Links in this issue"
    assert t("en", "topics") == "Topics: " and t("en", "archive_topics") == "Topics"
    assert t("zh", "sectors") == "板块" and t("en", "no_keywords") == "This issue has no keywords."


_CALL = re.compile(r"""\bt\(\s*[\w.()" ]+?,\s*(['"])([a-z][a-z0-9_]*)\1""")


def test_every_literal_key_at_a_call_site_exists() -> None:
    """``t(lang, "key")`` in the code and the Jinja templates names a key of the table."""
    used: dict[str, str] = {}
    for path in [*SRC.rglob("*.py"), *SRC.rglob("*.html"), *SRC.rglob("*.xml")]:
        for m in _CALL.finditer(path.read_text(encoding="utf-8")):
            used.setdefault(m.group(2), str(path.relative_to(SRC)))
    assert len(used) > 150
    unknown = {key: where for key, where in used.items() if key not in STRINGS}
    assert unknown == {}


def test_the_table_is_core() -> None:
    files = sorted((SRC / "i18n").rglob("*.py"))
    assert len(files) > 2
    for path in files:
        source = path.read_text(encoding="utf-8")
        imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
        assert imports, path
        for line in imports:  # the standard typing names and the package's own modules, nothing else
            assert line.startswith(("from __future__ ", "from typing ", "from briefcast.i18n")), (path, line)
    assert not list(SRC.glob("*/i18n.py"))  # the three old tables are gone


def test_a_key_defined_in_two_areas_fails_the_import() -> None:
    merged = merge({"a": {"zh": "甲", "en": "a"}}, {"b": {"zh": "乙", "en": "b"}})
    assert list(merged) == ["a", "b"]
    with pytest.raises(ValueError, match="message key 'a' is defined twice"):
        merge({"a": {"zh": "甲", "en": "a"}}, {"a": {"zh": "乙", "en": "b"}})
