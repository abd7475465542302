"""config.toml: parsed and validated purely, a broken file refused with its line, an unknown
key named, values written back in a fixed order that parses again; the environment wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from rempart.config import (
    ConfigError,
    FileConfig,
    Settings,
    parse_config,
    render_config,
    set_value,
)


def test_a_syntax_error_names_its_line() -> None:
    with pytest.raises(ConfigError, match="line 3"):
        parse_config('[organisation]\nname = "A"\nemail = contact@x.example\n')


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[organisation]\nnom = "A"\n', "organisation.nom"),
        ('[organization]\nname = "A"\n', "organization"),
        ('[organisation]\ntrusted_flagger = "yes"\n', "true or false"),
        ("[organisation]\nname = 3\n", "text in quotes"),
        ('[organisation]\nemail = "nobody"\n', "e-mail"),
        ('[smtp]\nurl = "mail.example"\n', "smtp://"),
    ],
)
def test_bad_values_and_unknown_keys_are_refused_by_name(text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        parse_config(text)


def test_rendered_values_parse_back_to_the_same_values() -> None:
    config = FileConfig()
    for key, value in [
        ("organisation.name", 'Asso "Rempart" \\ Paris'),
        ("organisation.trusted_flagger", "oui"),
        ("caseworker.name", "Camille Martin"),
        ("smtp.from", "alertes@asso.example"),
    ]:
        config = set_value(config, key, value)
    assert parse_config(render_config(config)).values == config.values
    assert config.values["organisation.trusted_flagger"] is True
    assert "organisation.name" not in set_value(config, "organisation.name", "").values


def test_environment_overrides_the_file_and_the_operator_falls_back(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[organisation]\nname = "File"\n[caseworker]\nname = "Camille"\n[smtp]\nurl = "smtp://a"\n'
    )
    env = {"REMPART_HOME": str(tmp_path)}
    settings = Settings.from_env(env)
    assert (settings.organisation, settings.operator, settings.smtp_url) == (
        "File", "Camille", "smtp://a",
    )  # fmt: skip
    env |= {
        "REMPART_ORGANISATION": "Env",
        "REMPART_OPERATOR": "Alex",
        "REMPART_SMTP_URL": "smtp://b",
    }
    settings = Settings.from_env(env)
    assert (settings.organisation, settings.operator, settings.smtp_url) == (
        "Env",
        "Alex",
        "smtp://b",
    )
    assert settings.identity.missing_for_dossier() == ()


def test_without_a_file_nothing_is_set_and_a_dossier_would_miss_name_and_caseworker(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env({"REMPART_HOME": str(tmp_path)})
    assert settings.identity.missing_for_dossier() == ("organisation.name", "caseworker.name")
    assert settings.operator  # the system user still signs looks and decisions
