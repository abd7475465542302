"""Where Rempart keeps its data, which database it talks to, and in whose name it acts: read
from the environment and from `$REMPART_HOME/config.toml` (the environment wins).

Built on demand and passed in; nothing here runs at import time. Parsing and validation are
pure (`parse_config`, `render_config`); must not open the database.
"""

from __future__ import annotations

import getpass
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from platformdirs import user_data_path

from rempart.errors import InputError
from rempart.i18n import N_
from rempart.inputs import MiB, read_text_capped

__all__ = [
    "CONFIG_FILE",
    "KEYS",
    "ConfigError",
    "ConfigKey",
    "FileConfig",
    "Identity",
    "MissingIdentity",
    "Settings",
    "config_path",
    "effective_values",
    "parse_config",
    "read_config_file",
    "render_config",
    "set_value",
]

CONFIG_FILE = "config.toml"


class ConfigError(InputError):
    """The configuration file (or a value given for it) is not valid."""


class MissingIdentity(InputError):
    """A command that acts in the organisation's name found part of its identity unset."""


_SET_COMMANDS = {
    "organisation.name": 'rempart config set organisation.name "…"',
    "caseworker.name": 'rempart config set caseworker.name "…"',
}


@dataclass(frozen=True, slots=True)
class ConfigKey:
    """One setting of config.toml: `section.name`, its type, the environment variable that
    overrides it, and what it means (shown by `rempart config show`)."""

    section: str
    name: str
    kind: Literal["text", "bool", "email", "url", "days"]
    env: str | None
    help: str

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}"


KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "organisation", "name", "text", "REMPART_ORGANISATION", N_("The organisation's name.")
    ),
    ConfigKey(
        "organisation", "address", "text", "REMPART_ORGANISATION_ADDRESS", N_("Its postal address.")
    ),
    ConfigKey(
        "organisation", "email", "email", "REMPART_ORGANISATION_EMAIL", N_("Its contact e-mail.")
    ),
    ConfigKey(
        "organisation", "phone", "text", "REMPART_ORGANISATION_PHONE", N_("Its phone number.")
    ),
    ConfigKey("organisation", "website", "url", "REMPART_ORGANISATION_WEBSITE", N_("Its website.")),
    ConfigKey(
        "organisation",
        "trusted_flagger",
        "bool",
        "REMPART_TRUSTED_FLAGGER",
        N_("Whether it is a trusted flagger under the DSA (article 22)."),
    ),
    ConfigKey(
        "organisation",
        "designation",
        "text",
        "REMPART_DESIGNATION",
        N_("The reference of its trusted-flagger designation."),
    ),
    ConfigKey(
        "organisation",
        "designated_by",
        "text",
        "REMPART_DESIGNATED_BY",
        N_("The Digital Services Coordinator that designated it (in France: Arcom)."),
    ),
    ConfigKey(
        "caseworker", "name", "text", "REMPART_OPERATOR", N_("Who is at the keyboard (caseworker).")
    ),
    ConfigKey("smtp", "url", "url", "REMPART_SMTP_URL", N_("The mail server notices go through.")),
    ConfigKey(
        "seen",
        "retention_days",
        "days",
        "REMPART_SEEN_RETENTION_DAYS",
        N_(
            "Days the hashes of media a scan saw (never the media) are kept, to match images "
            "registered later (default 180; a source's seen_retention_days overrides it)."
        ),
    ),
    ConfigKey(
        "smtp", "from", "email", "REMPART_SMTP_FROM", N_("The address notices are sent from.")
    ),
)
_BY_NAME = {key.dotted: key for key in KEYS}
_SECTIONS = tuple(dict.fromkeys(key.section for key in KEYS))
_MAX_VALUE = 500
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
_TRUE = {"true", "yes", "1", "on", "oui", "vrai"}
_FALSE = {"false", "no", "0", "off", "non", "faux", ""}


@dataclass(frozen=True, slots=True)
class Identity:
    """In whose name Rempart acts: the organisation and the caseworker. Dossiers and notices
    need `name`; `missing_for_dossier` says which keys are still unset."""

    name: str = ""
    address: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    trusted_flagger: bool = False
    designation: str = ""
    designated_by: str = ""
    caseworker: str = ""

    def missing_for_dossier(self) -> tuple[str, ...]:
        """The keys a complaint dossier cannot go without, still unset."""
        missing = []
        if not self.name.strip():
            missing.append("organisation.name")
        if not self.caseworker.strip():
            missing.append("caseworker.name")
        if self.trusted_flagger and not self.designation.strip():
            missing.append("organisation.designation")
        return tuple(missing)

    def require(self, missing: tuple[str, ...]) -> None:
        """Raise MissingIdentity naming the unset keys and the command that sets them (a
        complaint dossier, a notice: whatever acts in the organisation's name)."""
        if not missing:
            return
        command = _SET_COMMANDS.get(missing[0], f'rempart config set {missing[0]} "…"')
        if len(missing) == 1:
            raise MissingIdentity(
                "this is done in the organisation's name and {key} is not set yet: run "
                "`rempart config init`, or `{command}`",
                key=missing[0],
                command=command,
            )
        raise MissingIdentity(
            "this is done in the organisation's name and {keys} are not set yet: run "
            "`rempart config init`, or `{command}` and the like",
            keys=", ".join(missing),
            command=command,
        )

    @property
    def contact(self) -> str:
        """Address, e-mail, phone and website, those given, on one line."""
        return " · ".join(v for v in (self.address, self.email, self.phone, self.website) if v)


@dataclass(frozen=True, slots=True)
class FileConfig:
    """config.toml as read: every known key that is set, by its dotted name."""

    values: Mapping[str, str | bool] = field(default_factory=dict)

    def get(self, dotted: str) -> str | bool | None:
        return self.values.get(dotted)


def config_path(home: Path) -> Path:
    return home / CONFIG_FILE


def parse_config(text: str, *, path: str = CONFIG_FILE) -> FileConfig:
    """Parse and validate config.toml. Raises ConfigError naming the file, the line (for
    TOML syntax) or the key (for a bad value or an unknown key)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            "{path} is not valid TOML: {problem}", path=path, problem=str(exc)
        ) from None
    values: dict[str, str | bool] = {}
    for section, content in data.items():
        if section not in _SECTIONS:
            raise ConfigError(
                "{path}: unknown section [{section}] (known: {known})",
                path=path,
                section=section,
                known=", ".join(_SECTIONS),
            )
        if not isinstance(content, dict):
            raise ConfigError("{path}: {section} must be a [section]", path=path, section=section)
        for name, value in content.items():
            dotted = f"{section}.{name}"
            key = _BY_NAME.get(dotted)
            if key is None:
                raise ConfigError(
                    "{path}: unknown key {key} (see `rempart config show`)", path=path, key=dotted
                )
            values[dotted] = _validated(key, value, where=path)
    return FileConfig(values)


def set_value(config: FileConfig, dotted: str, raw: str) -> FileConfig:
    """`config` with one key set from text typed by a person (empty text unsets it)."""
    key = _BY_NAME.get(dotted)
    if key is None:
        raise ConfigError(
            "unknown key {key}; known keys: {known}",
            key=dotted,
            known=", ".join(k.dotted for k in KEYS),
        )
    values = dict(config.values)
    if raw.strip() == "" and key.kind != "bool":
        values.pop(dotted, None)
    else:
        values[dotted] = _validated(key, _from_text(key, raw), where="")
    return replace(config, values=values)


def render_config(config: FileConfig) -> str:
    """config.toml's text for these values, sections and keys in a fixed order."""
    lines = ["# Rempart's configuration; `rempart config show` explains each key.\n"]
    for section in _SECTIONS:
        keys = [k for k in KEYS if k.section == section and k.dotted in config.values]
        if not keys:
            continue
        lines.append(f"\n[{section}]\n")
        for key in keys:
            lines.append(f"{key.name} = {_toml_value(config.values[key.dotted])}\n")
    return "".join(lines)


def _validated(key: ConfigKey, value: object, *, where: str) -> str | bool:
    prefix = f"{where}: " if where else ""
    if key.kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError("{prefix}{key} must be true or false", prefix=prefix, key=key.dotted)
        return value
    if key.kind == "days":
        return _days(key, value, prefix)
    if not isinstance(value, str):
        raise ConfigError("{prefix}{key} must be text in quotes", prefix=prefix, key=key.dotted)
    text = value.strip()
    if len(text) > _MAX_VALUE:
        raise ConfigError(
            "{prefix}{key} holds at most {n} characters",
            prefix=prefix,
            key=key.dotted,
            n=_MAX_VALUE,
        )
    if any(ord(c) < 32 and c not in "\n" for c in text) or "\x7f" in text:
        raise ConfigError("{prefix}{key} holds control characters", prefix=prefix, key=key.dotted)
    if key.kind == "email" and text and not _EMAIL.fullmatch(text):
        raise ConfigError(
            "{prefix}{key} is not an e-mail address: {value!r}",
            prefix=prefix,
            key=key.dotted,
            value=text,
        )
    if key.kind == "url" and text and "://" not in text:
        raise ConfigError(
            "{prefix}{key} must be a full address such as https://… or smtp://…: {value!r}",
            prefix=prefix,
            key=key.dotted,
            value=text,
        )
    return text


_MAX_DAYS = 3660


def _days(key: ConfigKey, value: object, prefix: str) -> str:
    """A number of days (0 to 3660), kept as its text."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, bool) or not (
        isinstance(text, int) or (isinstance(text, str) and text.isdigit())
    ):
        raise ConfigError(
            "{prefix}{key} must be a whole number of days", prefix=prefix, key=key.dotted
        )
    days = int(text)
    if days > _MAX_DAYS:
        raise ConfigError(
            "{prefix}{key} is at most {n} days", prefix=prefix, key=key.dotted, n=_MAX_DAYS
        )
    return str(days)


def _from_text(key: ConfigKey, raw: str) -> str | bool:
    if key.kind != "bool":
        return raw
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ConfigError("{key} must be true or false, not {value!r}", key=key.dotted, value=raw)


def _toml_value(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _env_value(key: ConfigKey, env: Mapping[str, str]) -> str | bool | None:
    if key.env is None or key.env not in env:
        return None
    return _validated(key, _from_text(key, env[key.env]), where=key.env)


MAX_CONFIG_FILE = 1 * MiB


def read_config_file(home: Path) -> FileConfig:
    """config.toml in `home`, or an empty configuration when there is none."""
    path = config_path(home)
    try:
        text = read_text_capped(path, MAX_CONFIG_FILE)
    except FileNotFoundError:
        return FileConfig()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("cannot read {path}: {problem}", path=str(path), problem=exc) from None
    return parse_config(text, path=str(path))


def effective_values(config: FileConfig, env: Mapping[str, str]) -> dict[str, str | bool]:
    """Every key set, from the file, then the environment over it."""
    values = dict(config.values)
    for key in KEYS:
        value = _env_value(key, env)
        if value is not None and value != "":
            values[key.dotted] = value
    return values


@dataclass(frozen=True, slots=True)
class Settings:
    """`REMPART_HOME` (data folder), `REMPART_DATABASE_URL` (default: SQLite in the home),
    `REMPART_OPERATOR` (who is at the keyboard; else `caseworker.name` in config.toml, else
    the system user), `REMPART_ORGANISATION` and the rest of the identity (config.toml, each
    key overridable by its environment variable, see `KEYS`)."""

    home: Path
    database_url: str
    operator: str = ""
    organisation: str = ""
    identity: Identity = field(default_factory=Identity)
    smtp_url: str = ""
    smtp_from: str = ""
    seen_retention_days: int = 180

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Raises ConfigError when config.toml (or an override) is not valid."""
        env = os.environ if env is None else env
        home = Path(env.get("REMPART_HOME") or user_data_path("rempart", appauthor=False))
        url = env.get("REMPART_DATABASE_URL") or f"sqlite:///{home / 'rempart.db'}"
        values = effective_values(read_config_file(home), env)

        def text(dotted: str) -> str:
            value = values.get(dotted, "")
            return value if isinstance(value, str) else ""

        identity = Identity(
            name=text("organisation.name"),
            address=text("organisation.address"),
            email=text("organisation.email"),
            phone=text("organisation.phone"),
            website=text("organisation.website"),
            trusted_flagger=values.get("organisation.trusted_flagger") is True,
            designation=text("organisation.designation"),
            designated_by=text("organisation.designated_by"),
            caseworker=text("caseworker.name"),
        )
        return cls(
            home=home,
            database_url=url,
            operator=identity.caseworker or _system_user(),
            organisation=identity.name,
            identity=identity,
            smtp_url=text("smtp.url"),
            smtp_from=text("smtp.from"),
            seen_retention_days=int(text("seen.retention_days") or 180),
        )


def _system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        return f"uid-{os.getuid()}"
