"""Which flags the report shows: group flags survive unless one of their themes says the same."""

from __future__ import annotations

from transforms.report_model import distinct_flags


def flag(theme_id: str, level: str, segment: str = "enterprise", kind: str = "rising") -> dict:
    return {"theme_id": theme_id, "level": level, "segment": segment, "flag": kind}


def test_a_group_flag_carried_by_no_theme_of_it_reaches_the_report() -> None:
    group_of = {"th_a": "grp_1", "th_b": "grp_1", "grp_1": "grp_1", "th_c": None}
    flags = [flag("grp_1", "group"), flag("th_c", "theme")]
    assert distinct_flags(flags, group_of) == flags


def test_a_group_flag_repeating_its_own_themes_flag_is_dropped() -> None:
    group_of = {"th_a": "grp_1", "th_b": "grp_1", "grp_1": "grp_1"}
    flags = [flag("th_a", "theme"), flag("grp_1", "group")]
    assert distinct_flags(flags, group_of) == [flags[0]]
    # another segment, or another kind of flag, is not the same news
    other = [flag("th_a", "theme", segment="smb"), flag("grp_1", "group")]
    assert distinct_flags(other, group_of) == other
    fading = [flag("th_a", "theme", kind="fading"), flag("grp_1", "group")]
    assert distinct_flags(fading, group_of) == fading
