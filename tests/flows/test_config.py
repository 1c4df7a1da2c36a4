from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flows.runtime.config import ConfigError, load_config


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "chorus.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _mutated(small_project: Path, mutate) -> Path:
    data = yaml.safe_load(small_project.read_text())
    mutate(data)
    small_project.write_text(yaml.safe_dump(data))
    return small_project


def test_valid_config_resolves_paths_against_its_folder(small_project: Path) -> None:
    cfg = load_config(small_project)
    assert cfg.lake_url == str(small_project.parent / "lake")
    assert [s.name for s in cfg.sources] == ["tickets", "beta", "notes"]
    assert cfg.source("tickets").extra()["format"] == "csv"


def test_unknown_top_level_key_names_it_and_suggests(small_project: Path) -> None:
    path = _mutated(small_project, lambda d: d.update({"segmens": []}))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "segmens: unknown key" in str(err.value)
    assert "did you mean 'segments'" in str(err.value)


def test_wrong_format_value_names_source_key_value_and_choices(small_project: Path) -> None:
    path = _mutated(small_project, lambda d: d["sources"][0].update({"format": "xlsx"}))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert "sources[0] (tickets).format" in msg and "'xlsx'" in msg and "csv" in msg


def test_unknown_canonical_column_is_refused(small_project: Path) -> None:
    path = _mutated(
        small_project, lambda d: d["sources"][0]["columns"].update({"body_text": "body"})
    )
    with pytest.raises(ConfigError, match="unknown canonical column"):
        load_config(path)


def test_unknown_source_type_suggests_close_name(small_project: Path) -> None:
    path = _mutated(small_project, lambda d: d["sources"][0].update({"type": "filedrop"}))
    with pytest.raises(ConfigError, match="did you mean 'file_drop'"):
        load_config(path)


def test_bad_weight_value_and_unknown_segment_attribute(small_project: Path) -> None:
    path = _mutated(small_project, lambda d: d["weighting"].update({"internal": 3}))
    with pytest.raises(ConfigError, match=r"weighting.internal: got 3"):
        load_config(path)
    path = _mutated(
        small_project,
        lambda d: (
            d["weighting"].update({"internal": 0.1}),
            d["segments"].append({"name": "x", "where": {"colour": "red"}}),
        ),
    )
    with pytest.raises(ConfigError, match=r"segments \(x\).where.colour: unknown attribute"):
        load_config(path)


def test_missing_required_keys_and_duplicate_sources(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sources: missing"):
        load_config(_write(tmp_path, "lake: lake\n"))
    text = "sources:\n  - {name: a, type: file_drop, path: x, format: csv}\n  - {name: a, type: file_drop, path: y, format: csv}\n"
    with pytest.raises(ConfigError, match="repeated: \\['a'\\]"):
        load_config(_write(tmp_path, text))


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(_write(tmp_path, "sources: [\n"))
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")
