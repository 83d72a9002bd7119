"""Turn parsed TOML into typed dataclasses, with one clear error per mistake.

Config and watchlist files are written by hand, so every mistake must name the file, the key path
and what was expected. Dataclass fields describe the schema (type hints, defaults); field metadata
can mark a value as secret (masked when printed) or attach a validator.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import keyword
import os
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import tomli  # tomllib's upstream, compiled (mypyc): 1,000 sources' watchlist parses in 12 ms, not 44

T = TypeVar("T")

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(Exception):
    """A config or watchlist file is unusable; the message is one line meant for the user."""

    def __init__(self, file: Path | str | None, key: str, problem: str) -> None:
        self.file, self.key, self.problem = file, key, problem
        where = f"{file}: " if file else ""
        super().__init__(f"{where}{key + ': ' if key else ''}{problem}")


def secret(default: Any = "", url: bool = False, check: Callable[[Any], str | None] | None = None,
           **kwargs: Any) -> Any:
    """A field whose value is never printed or logged (keys, passwords); a `url` shows all but its secret
    parts. `check` as for `checked`: its message must not quote the value."""
    metadata: dict[str, Any] = {"secret": "url" if url else True}
    if check is not None:
        metadata["check"] = check
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


# Query parameters that carry a credential in the webhook URLs of the chat platforms (and proxies).
_SECRET_PARAMS = {"access_token", "token", "key", "sig", "signature", "secret", "code", "apikey", "api_key",
                  "auth", "password", "pass", "sign"}
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-.~%]{16,}")  # long enough to be a key rather than a word
_LAST_SEGMENT_TOKEN = re.compile(r"(?=.*[\d_-])[A-Za-z0-9_\-.~%]{8,}")  # a hook id at the end of a path


def _mask(value: str) -> str:
    """`****` and, for a long token, its last four characters: enough to tell two robots apart."""
    return f"****{value[-4:]}" if len(value) >= 20 else "****"


def mask_url(url: str) -> str:
    """A URL with its credentials masked (password, token-bearing query values, token-like path
    segments) and everything else kept, so an operator sees which host and robot is configured."""
    from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "********"
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", ":****@", 1)
    segments = parts.path.split("/")
    path = "/".join(_mask(seg) if _TOKEN_LIKE.fullmatch(seg) or (i == len(segments) - 1 and
                                                                 _LAST_SEGMENT_TOKEN.fullmatch(seg)) else seg
                    for i, seg in enumerate(segments))
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(f"{quote(k, safe='')}=" + (_mask(v) if k.lower() in _SECRET_PARAMS or _TOKEN_LIKE.fullmatch(v)
                                                 else quote(v, safe="/")) for k, v in pairs)
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def checked(default: Any, check: Callable[[Any], str | None], **kwargs: Any) -> Any:
    """A field with an extra check; `check` returns a message saying what was expected, or None."""
    return dataclasses.field(default=default, metadata={"check": check}, **kwargs)


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning syntax and I/O errors into ConfigError."""
    try:
        with path.open("rb") as fh:
            return tomli.load(fh)
    except tomli.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"TOML syntax error: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, "", f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start});"
                                    " save the file as UTF-8") from None
    except PermissionError as exc:
        raise ConfigError(path, "", f"cannot read file: {exc.strerror} (on a server, run regwatch as the "
                                    "service's user: sudo -u regwatch regwatch …)") from None
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read file: {exc.strerror}") from None


def build(cls: type[T], data: Any, file: Path | str | None, key: str = "",
          env: Mapping[str, str] | None = None) -> T:
    """Validate `data` (a TOML table) against dataclass `cls` and return an instance.

    `${VAR}` in strings is read from `env` (default: the process environment).
    """
    token = _ENVIRONMENT.set(env if env is not None else os.environ)
    try:
        return _convert(cls, data, file, key)
    finally:
        _ENVIRONMENT.reset(token)


_ENVIRONMENT: ContextVar[Mapping[str, str]] = ContextVar("environment", default=os.environ)


def expand_env(value: str, file: Path | str | None, key: str) -> str:
    """Replace ${VAR} with the environment's value; a missing variable is a config error."""
    if "${" not in value:
        return value  # (most strings: a watchlist of 1,000 sources has ~10,000)
    environment = _ENVIRONMENT.get()

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environment:
            raise ConfigError(file, key, f"environment variable {name} is not set")
        return environment[name]

    return _ENV_REF.sub(sub, value)


def read_env_file(path: Path) -> dict[str, str]:
    """`VAR=value` lines, as systemd's EnvironmentFile= reads them (comments, blank lines, quotes)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(path, "", "not UTF-8 text; save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read file: {exc.strerror}") from None
    values = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        if not equals or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name.strip()):
            raise ConfigError(path, f"line {number}", "expected VAR=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if tp is str:
        return "a string"
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin is list:
        return "a list"
    if origin is dict:
        return "a table"
    if dataclasses.is_dataclass(tp):
        return "a table"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp) if a is not type(None))
    return str(tp)


def _describe(value: Any) -> str:
    kind = {str: "string", bool: "boolean", int: "integer", float: "number", list: "list", dict: "table"}
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind.get(type(value), type(value).__name__)} {text}"


def _convert(tp: Any, value: Any, file: Path | str | None, key: str) -> Any:
    if tp is Any:  # validated later by whoever consumes it (e.g. a parser's own options)
        return value
    if tp is str:  # first: most values are (a watchlist of 1,000 sources has ~10,000)
        if not isinstance(value, str):
            raise ConfigError(file, key, f"expected a string, got {_describe(value)}")
        return expand_env(value, file, key)
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(file, key, f"expected a table, got {_describe(value)}")
        return _build_dataclass(tp, value, file, key)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        for option in options:
            try:
                return _convert(option, value, file, key)
            except ConfigError:
                continue
        raise ConfigError(file, key, f"expected {_type_name(tp)}, got {_describe(value)}")
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(file, key, f"expected one of {', '.join(map(repr, allowed))}, got {value!r}")
        return value
    if origin is list:
        (item_tp,) = get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(file, key, f"expected a list, got {_describe(value)}")
        return [_convert(item_tp, v, file, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, val_tp = get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(file, key, f"expected a table, got {_describe(value)}")
        return {k: _convert(val_tp, v, file, f"{key}.{k}") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(file, key, f"expected true or false, got {_describe(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(file, key, f"expected an integer, got {_describe(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(file, key, f"expected a number, got {_describe(value)}")
        return float(value)
    raise TypeError(f"unsupported schema type {tp!r} at {key}")  # a bug in a schema, not user input


@functools.cache
def _schema_of(cls: Any) -> tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]:
    """Type hints, checks and required fields of a dataclass (resolving string annotations is slow: once
    per class; a watchlist of 1,000 sources builds 2,000 tables)."""
    fields = [f for f in dataclasses.fields(cls) if f.init]
    required = tuple(f.name for f in fields
                     if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    return typing.get_type_hints(cls), {f.name: f.metadata.get("check") for f in fields}, required


def _build_dataclass(cls: Any, data: dict[str, Any], file: Path | str | None, prefix: str) -> Any:
    hints, checks, required = _schema_of(cls)
    kwargs: dict[str, Any] = {}
    for raw_key, raw_value in data.items():
        name = raw_key.replace("-", "_")
        if keyword.iskeyword(name):  # `from = "…"` is stored in a field named from_
            name += "_"
        key = f"{prefix}.{raw_key}" if prefix else raw_key
        if name not in checks:
            known = ", ".join(sorted(f.rstrip("_") for f in checks))
            raise ConfigError(file, key, f"unknown key (known keys here: {known})")
        value = _convert(hints[name], raw_value, file, key)
        check = checks[name]
        if check is not None:
            problem = check(value)
            if problem:
                raise ConfigError(file, key, problem)
        kwargs[name] = value
    for name in required:
        if name not in kwargs:
            key = f"{prefix}.{name}" if prefix else name
            raise ConfigError(file, key, f"required key is missing (expected {_type_name(hints[name])})")
    return cls(**kwargs)


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """' (did you mean 'X'?)' for the nearest choice (case aside), else ' (known: …)'; for one-line errors."""
    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(value.lower(), sorted(by_lower), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {by_lower[close[0]]!r}?)"
    known = sorted(by_lower.values())
    return f" (known: {', '.join(known[:12])}{', …' if len(known) > 12 else ''})" if known else ""


def valid_regex(pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regular expression {pattern!r}: {exc}"
    return None


def valid_proxy(value: str) -> str | None:
    """An HTTP proxy's address, http://[user:password@]host[:port] (https:// sites go through it by CONNECT).
    The message never quotes the value: it may hold a password."""
    from urllib.parse import urlsplit

    if not value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range or not a number
    except ValueError:
        return "expected an http:// proxy address, http://[user:password@]host:port (its port is not a number)"
    if parts.scheme != "http" or not parts.hostname:
        return ("expected an http:// proxy address, http://[user:password@]host:port (https:// sites go "
                "through it by CONNECT; SOCKS and https:// proxies are not supported)")
    return None


def valid_http_url(value: str) -> str | None:
    """An http(s) URL with a host and, if given, a port in range (checked at load, not at the first request)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range or not a number
    except ValueError as exc:
        return f"expected an http:// or https:// URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "expected an http:// or https:// URL with a host"
    return None


def positive(value: float) -> str | None:
    return None if value > 0 else "expected a number greater than 0"


def non_negative(value: float) -> str | None:
    return None if value >= 0 else "expected a number of 0 or more"


def to_plain(obj: Any, mask_secrets: bool = True) -> Any:
    """Dataclass → dicts and lists, with secret fields masked, for printing as TOML or JSON."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            key = f.name.rstrip("_")
            if mask_secrets and f.metadata.get("secret") and value:
                out[key] = mask_url(value) if f.metadata["secret"] == "url" else "********"
            else:
                out[key] = to_plain(value, mask_secrets)
        return out
    if isinstance(obj, list):
        return [to_plain(v, mask_secrets) for v in obj]
    if isinstance(obj, dict):
        return {k: to_plain(v, mask_secrets) for k, v in obj.items()}
    return obj


def dump_toml(data: dict[str, Any]) -> str:
    """Write plain data back as TOML (enough for printing an effective config)."""
    lines: list[str] = []
    _dump_table(data, [], lines)
    return "\n".join(lines).strip() + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _dump_table(data: dict[str, Any], path: list[str], lines: list[str]) -> None:
    def is_table(v: Any) -> bool:
        return isinstance(v, dict) and any(isinstance(x, dict | list) for x in v.values())

    def is_table_array(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)

    for key, value in data.items():
        if not (is_table(value) or is_table_array(value) or isinstance(value, dict)):
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in data.items():
        sub = [*path, _toml_key(key)]
        if isinstance(value, dict):
            lines.extend(["", f"[{'.'.join(sub)}]"])
            _dump_table(value, sub, lines)
        elif is_table_array(value):
            for item in value:
                lines.extend(["", f"[[{'.'.join(sub)}]]"])
                _dump_table(item, sub, lines)
