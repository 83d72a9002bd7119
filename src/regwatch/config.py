"""The service configuration: one TOML file, every key optional, `${VAR}` for secrets.

Where the file is found: `--config PATH`, else `$REGWATCH_CONFIG`, else the platform config
dir (`$XDG_CONFIG_HOME/regwatch/config.toml`, then `/etc/regwatch/config.toml`); with none of
them, the built-in defaults. `config.example.toml` documents every key.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from . import __version__
from ._schema import (
    ConfigError,
    build,
    checked,
    did_you_mean,
    non_negative,
    positive,
    read_env_file,
    read_toml,
    secret,
    valid_http_url,
    valid_proxy,
)

DEFAULT_USER_AGENT = (
    f"regwatch/{__version__} (regulatory notice monitor; polite polling)"
)


SYSTEM_CONFIG_DIR = Path("/etc")  # a config file under it is the service's (see load_config)
SYSTEM_STATE_DIR = Path("/var/lib/regwatch")


def _data_dir() -> Path:
    """Where the database lives by default: systemd's StateDirectory, else the XDG data dir."""
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "regwatch"


@dataclass(frozen=True)
class FetchConfig:
    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = checked(20.0, positive)  # seconds for connect, read and write each
    max_body_bytes: int = checked(5_000_000, positive)
    max_redirects: int = checked(5, non_negative)
    concurrency: int = checked(10, positive)  # requests in flight over all hosts
    per_host_concurrency: int = checked(2, positive)
    per_host_delay: float = checked(1.0, non_negative)  # seconds between request starts to one host
    max_retry_after: float = checked(120.0, non_negative)  # longest Retry-After we wait for in a poll
    retry_after_cap: float = checked(3600.0, positive)  # a longer Retry-After (a day, 2099) counts as this
    deadline: float = checked(60.0, positive)  # seconds a whole request may take, body included
    allow_private_redirects: bool = False  # follow redirects to loopback/private addresses (tests, intranets)
    proxy: str = secret("", url=True, check=valid_proxy)  # "http://user:pass@proxy:3128": to reach sites from abroad
    # Send every request to this base URL instead, as `<rewrite_to>/<host><path>` (replay server, demos).
    rewrite_to: str = checked("", lambda v: valid_http_url(v) if v else None)


@dataclass(frozen=True)
class PollConfig:
    interval_minutes: float = checked(30.0, positive)  # default for sources that do not set one
    backfill_pages: int = checked(2, positive)  # pages read on a source's first poll (baseline)
    # A pass over many sources commits every this many sources (or every second): far fewer commits, and a
    # crash costs at most that many polls, made again on the next pass. 1: a commit per source.
    commit_every: int = checked(50, positive)
    max_catchup_pages: int = checked(5, positive)  # pages read when page 1 holds nothing known (a burst)
    flood_threshold: int = checked(50, non_negative)  # more new in one poll: alerts held, one summary (0: off)


@dataclass(frozen=True)
class DetailConfig:
    enabled: bool = True  # fetch each new notice's own page for time, 文号, deadline, attachments, body
    baseline: bool = True  # also for notices recorded by a source's first poll
    max_per_poll: int = checked(100, positive)  # detail pages fetched per poll pass; the rest wait
    max_attempts: int = checked(8, positive)  # then the notice keeps its list fields only
    retry_minutes: float = checked(10.0, positive)  # first retry delay; doubles each time, at most 12 h


@dataclass(frozen=True)
class AttachmentsConfig:
    enabled: bool = True  # download new notices' attachments (from their detail pages) and read their text
    baseline: bool = False  # also those of notices recorded by a source's first poll
    max_file_mb: float = checked(30.0, positive)  # a bigger file is not downloaded (state too-large)
    max_notice_mb: float = checked(60.0, positive)  # all of one notice's files together
    max_per_poll: int = checked(20, positive)  # files downloaded per poll pass; the rest wait
    timeout: float = checked(60.0, positive)  # seconds to read one file's text (in a child process)
    memory_mb: int = checked(384, positive)  # the child's memory limit: a PDF bomb stops there
    max_chars: int = checked(200_000, positive)  # text kept per file


@dataclass(frozen=True)
class HealthConfig:
    alert_after: int = checked(3, positive)  # consecutive bad polls before a source raises a health alert


@dataclass(frozen=True)
class ClassifyConfig:
    rules: str = ""  # a rule file of your own; empty: the rules shipped with regwatch


@dataclass(frozen=True)
class TranslateConfig:
    glossary: str = ""  # a glossary of your own, read over the shipped one (its entries win); empty: shipped only
    # A model that writes a fluent English title and a 2-3 sentence summary (optional; the gloss is the default).
    provider: Literal["", "openai-compatible"] = ""
    base_url: str = checked("", lambda v: valid_http_url(v) if v else None)  # e.g. http://127.0.0.1:11434/v1
    model: str = ""
    api_key: str = ""  # "${OPENAI_API_KEY}"; never logged
    timeout: float = checked(30.0, positive)
    hold_minutes: float = checked(0.0, non_negative)  # how long an alert may wait for it (0: it goes with the gloss)
    monthly_token_budget: int = checked(300_000, non_negative)  # no more calls this month once spent
    max_tokens: int = checked(400, positive)  # per answer
    body_chars: int = checked(4000, positive)  # of the notice's text sent with each request
    max_per_pass: int = checked(20, positive)  # notices written per poll pass
    allow_private_base_url: bool = False  # a server on this machine or the intranet, on purpose


ChannelName = Literal["slack", "teams", "dingtalk", "feishu", "wecom", "webhook", "email"]


def _no_dots(value: str) -> str | None:
    return None if value and "." not in value and value.strip() == value else "expected a name without dots or spaces"


_REMINDER = re.compile(r"(comment-deadline|effective):(\d{1,2})")


def _reminder_rules(values: list[str]) -> str | None:
    bad = [v for v in values if not _REMINDER.fullmatch(str(v))]
    return (f"unknown reminder {bad[0]!r} (expected \"comment-deadline:DAYS\" or \"effective:DAYS\", DAYS 0–99 "
            "before the date, e.g. \"comment-deadline:3\")") if bad else None


def _clock_time(value: str) -> str | None:
    hour, _, minute = value.partition(":")
    ok = hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60 and len(minute) == 2
    return None if ok else "expected a time of day as HH:MM, e.g. \"09:00\""


@dataclass(frozen=True)
class SubscriptionConfig:
    """One `[[subscription]]`: a channel and the notices it wants. Every filter is optional."""

    name: str = checked("", _no_dots)
    channel: ChannelName = "webhook"
    url: str = secret("", url=True)  # the webhook URL (it carries the platform's token)
    secret: str = secret("")  # DingTalk/Feishu signing secret; "whsec_…" for channel = "webhook"
    mode: Literal["instant", "digest"] = "instant"
    agencies: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)  # any of them in title or body
    exclude_keywords: list[str] = field(default_factory=list)
    language: Literal["zh", "en", "both"] = "both"
    events: list[Literal["new", "edited"]] = field(default_factory=lambda: ["new"])  # edits too: add "edited"
    batch_over: int = checked(3, positive)  # more due notices than this go out as one batched message
    # Reminders before the dates that matter, days before: ["comment-deadline:3", "effective:0"]; sent at
    # reminder_time in `timezone`; working_days counts the mainland's working days (holidays, make-up days).
    reminders: list[str] = field(default_factory=list, metadata={"check": _reminder_rules})
    reminder_time: str = checked("09:00", _clock_time)
    working_days: bool = False
    github_signature: bool = False  # webhook only: also send X-Hub-Signature-256
    # email digests (channel = "email", mode = "digest")
    to: list[str] = field(default_factory=list)
    schedule: str = "0 9 * * 1"  # cron: minute hour day month weekday (default Monday 09:00)
    timezone: str = "Asia/Shanghai"
    unsubscribe: str = ""  # an https URL (one-click) and/or mailto:, comma-separated, for List-Unsubscribe
    send_empty: bool = True  # send a short "nothing new" digest when the period had nothing
    enabled: bool = True


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = checked(587, positive)
    security: Literal["starttls", "tls", "none"] = "starttls"  # none: only for a server on this machine
    username: str = ""
    password: str = secret("")
    from_: str = "regwatch <regwatch@localhost>"
    timeout: float = checked(30.0, positive)
    ca_file: str = ""  # PEM file of a private CA to trust (empty: the system's trust store)


@dataclass(frozen=True)
class OpsConfig:
    subscription: str = ""  # where source-health and delivery-failure alerts go; empty: the log only


@dataclass(frozen=True)
class DeliveryConfig:
    timeout: float = checked(15.0, positive)  # seconds per request to a channel
    retry_base_seconds: float = checked(5.0, positive)  # backoff: uniform(0, min(max, base × 2^attempt))
    retry_max_seconds: float = checked(3600.0, positive)
    give_up_after_hours: float = checked(72.0, positive)  # a delivery still failing then is dead
    hold_for_details_minutes: float = checked(10.0, non_negative)  # wait this long for 文号/deadline
    sending_timeout_minutes: float = checked(5.0, positive)  # a 'sending' row older than this was cut off


def _host_port(value: str) -> str | None:
    host, _, port = value.rpartition(":")
    if not value or (host and port.isdigit() and 0 < int(port) < 65536):
        return None
    return "expected host:port with a port from 1 to 65535, e.g. \"127.0.0.1:8787\""


@dataclass(frozen=True)
class ServiceConfig:
    http: str = checked("", _host_port)  # the web view, feeds, /healthz and /metrics here (empty: off)
    # Beyond this machine the listener asks for one of these (bearer/`?token=`, or basic auth).
    access_token: str = secret("")
    user: str = ""
    password: str = secret("")
    stale_factor: float = checked(3.0, positive)  # /healthz fails when a source went unpolled this × its interval
    outbox_seconds: float = checked(30.0, positive)  # how often the sender looks for due deliveries
    detail_minutes: float = checked(5.0, positive)  # how often failed detail pages are retried
    jitter: float = checked(0.1, non_negative)  # random delay on each poll, as a fraction of its interval (≤ 60 s)
    # First polls after a start or a reload spread over time (interval ÷ sources apart, ≤ 10 s), so a new
    # install does not hit every site at once; false: every source polls then, in one pass (per-host
    # limits still hold).
    spread_first_polls: bool = True
    store_check_seconds: float = checked(15.0, positive)  # how often the service checks its database file


def _zone_name(value: str) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r} (expected an IANA name such as \"Asia/Shanghai\" or \"Europe/Berlin\")"
    return None


@dataclass(frozen=True)
class DisplayConfig:
    timezone: str = checked("Asia/Shanghai", _zone_name)  # times shown by the commands (the regulators' clock)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _valid_sets(values: list[str]) -> str | None:
    from .watchlist import SETS

    wrong = [v for v in values if v not in SETS]
    return f"unknown set {wrong[0]!r}: expected some of {', '.join(SETS)}" if wrong else None


@dataclass(frozen=True)
class WatchConfig:
    # Which sets of sources to watch: core (CAC, MIIT, PBC, SAMR), national (NPC, State Council, MOJ,
    # TC260 …), courts (SPC, SPP), provinces (PBC branches …), foreign (EDPB, ICO, FTC …).
    sets: list[str] = field(default_factory=lambda: ["core", "national", "courts", "foreign"],
                            metadata={"check": _valid_sets})


@dataclass(frozen=True)
class Config:
    database: str = ""  # empty: <data dir>/regwatch.sqlite
    watchlists: str = ""  # empty: the watchlists shipped with regwatch
    sources: list[str] = field(default_factory=list)  # empty: every source of the watched sets
    watch: WatchConfig = field(default_factory=WatchConfig)
    log_level: str = checked("info", lambda v: None if v in {"debug", "info", "warning", "error"}
                             else "expected one of 'debug', 'info', 'warning', 'error'")
    fetch: FetchConfig = field(default_factory=FetchConfig)
    poll: PollConfig = field(default_factory=PollConfig)
    detail: DetailConfig = field(default_factory=DetailConfig)
    attachments: AttachmentsConfig = field(default_factory=AttachmentsConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    classify: ClassifyConfig = field(default_factory=ClassifyConfig)
    translate: TranslateConfig = field(default_factory=TranslateConfig)
    subscription: list[SubscriptionConfig] = field(default_factory=list)
    ops: OpsConfig = field(default_factory=OpsConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)

    def subscriptions(self, mode: str | None = None) -> list[SubscriptionConfig]:
        """Enabled subscriptions, optionally of one mode."""
        return [s for s in self.subscription if s.enabled and (mode is None or s.mode == mode)]

    @property
    def database_path(self) -> Path:
        return Path(self.database).expanduser() if self.database else _data_dir() / "regwatch.sqlite"


def find_config_file(explicit: str | None) -> Path | None:
    """The config file to read, or None to run on defaults."""
    if explicit:
        return Path(explicit)
    if os.environ.get("REGWATCH_CONFIG"):
        return Path(os.environ["REGWATCH_CONFIG"])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    for candidate in (base / "regwatch" / "config.toml", SYSTEM_CONFIG_DIR / "regwatch" / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def environment_for(config_file: Path) -> dict[str, str]:
    """The process environment, plus the `env` file beside the config (VAR=value lines) for what it lacks.

    systemd gives the service that file through EnvironmentFile=; reading it here lets an operator's
    `sudo -u regwatch regwatch status` load the same config without exporting every secret by hand.
    """
    env_file = config_file.parent / "env"
    extra = read_env_file(env_file) if env_file.is_file() and os.access(env_file, os.R_OK) else {}
    return {**extra, **os.environ}


def load_config(path: Path | None) -> Config:
    """Read and validate a config file (None: defaults); raises ConfigError with a one-line message."""
    if path is None:
        return Config()
    config = build(Config, read_toml(path), path, env=environment_for(path))
    if not config.database and path.resolve().is_relative_to(SYSTEM_CONFIG_DIR):
        # A system-wide config means the service's state: the operator's shell commands and the
        # service (StateDirectory=regwatch) then read the same database.
        config = replace(config, database=str(SYSTEM_STATE_DIR / "regwatch.sqlite"))
    _check_subscriptions(config, path)
    _check_translate(config.translate, path)
    _check_service(config.service, path)
    return config


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: an address only this machine reaches."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_service(service: ServiceConfig, path: Path) -> None:
    """The listener answers anyone who can reach it: beyond loopback, only with credentials."""
    if bool(service.user) != bool(service.password):
        raise ConfigError(path, "service.password" if service.user else "service.user",
                          "user and password go together (basic auth for the web view)")
    host = service.http.rpartition(":")[0]
    if service.http and not is_loopback_host(host) and not (service.access_token or service.user):
        raise ConfigError(path, "service.http", f"{host} is reachable from other machines: set "
                          "service.access_token or service.user and service.password (or listen on 127.0.0.1)")
    if service.access_token and len(service.access_token) < 16:
        raise ConfigError(path, "service.access_token", "expected at least 16 characters (e.g. `openssl rand "
                          "-hex 16`)")


def _check_translate(translate: TranslateConfig, path: Path) -> None:
    """A model provider needs its server and model, and a private server only on purpose."""
    if not translate.provider:
        return
    for key in ("base_url", "model"):
        if not getattr(translate, key):
            raise ConfigError(path, f"translate.{key}", f"required with provider = {translate.provider!r}")
    host = (urlsplit(translate.base_url).hostname or "").lower()
    private = host == "localhost" or host.endswith(".localhost")
    with contextlib.suppress(ValueError):
        address = ipaddress.ip_address(host.strip("[]"))
        private = private or not address.is_global
    if private and not translate.allow_private_base_url:
        raise ConfigError(path, "translate.base_url", f"{host} is a private or loopback address: set "
                          "allow_private_base_url = true if a model server there is meant (a local Ollama, vLLM …)")


def _check_subscriptions(config: Config, path: Path) -> None:
    """What one table cannot check alone: unique names, required URLs, the ops target."""
    names: set[str] = set()
    for i, sub in enumerate(config.subscription):
        key = f"subscription[{i}]"
        if not sub.name:
            raise ConfigError(path, f"{key}.name", "required key is missing (expected a unique name)")
        if sub.name in names:
            raise ConfigError(path, f"{key}.name", f"the name {sub.name!r} is used twice")
        names.add(sub.name)
        if sub.channel == "email":
            _check_email_subscription(sub, key, path)
        elif not sub.url.startswith(("https://", "http://")) or valid_http_url(sub.url):
            problem = valid_http_url(sub.url) if sub.url.startswith(("https://", "http://")) else ""
            raise ConfigError(path, f"{key}.url", f"expected the {sub.channel} URL (http:// or https://)"
                              + (f": {problem.rpartition(': ')[2]}" if problem else ""))
        if sub.channel == "webhook" and sub.secret and not sub.secret.startswith("whsec_"):
            raise ConfigError(path, f"{key}.secret", "expected a Standard Webhooks secret starting with whsec_")
    if config.ops.subscription and config.ops.subscription not in names:
        raise ConfigError(path, "ops.subscription", f"no subscription is named {config.ops.subscription!r}")
    if config.smtp.security == "none" and config.smtp.host not in ("localhost", "127.0.0.1", "::1"):
        raise ConfigError(path, "smtp.security", "\"none\" (no TLS) is only allowed for a server on this machine")


def check_subscription_filters(config: Config, agencies: set[str], source_ids: set[str], path: Path | None) -> None:
    """Every filter value must name something that exists: a typo would silently filter out every notice."""
    from .classify import CATEGORIES, TAGS

    for i, sub in enumerate(config.subscription):
        for key, singular, values, known, fold in (
                ("categories", "category", sub.categories, CATEGORIES, True), ("tags", "tag", sub.tags, TAGS, False),
                ("agencies", "agency", sub.agencies, agencies, True),
                ("sources", "source", sub.sources, source_ids, False)):
            allowed = {k.lower() for k in known} if fold else set(known)
            for index, value in enumerate(values):
                if (value.lower() if fold else value) not in allowed:
                    raise ConfigError(path, f"subscription[{i}].{key}[{index}]",
                                      f"unknown {singular} {value!r}{did_you_mean(value, known)}")


def _check_email_subscription(sub: SubscriptionConfig, key: str, path: Path) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from .cron import CronError, cron_trigger

    if sub.mode != "digest":
        raise ConfigError(path, f"{key}.mode", "email goes out as a digest: expected \"digest\"")
    if not sub.to or not all("@" in address for address in sub.to):
        raise ConfigError(path, f"{key}.to", "expected a list of email addresses")
    try:
        zone = ZoneInfo(sub.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(path, f"{key}.timezone", f"unknown time zone {sub.timezone!r}") from None
    try:
        cron_trigger(sub.schedule, zone)
    except CronError as exc:
        raise ConfigError(path, f"{key}.schedule", f"expected a cron line like \"0 9 * * 1\" (Monday 09:00): {exc}"
                          ) from None


__all__ = ["Config", "ConfigError", "DetailConfig", "FetchConfig", "HealthConfig", "PollConfig", "load_config"]
