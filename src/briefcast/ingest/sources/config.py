"""The ``[[source]]`` tables of ``config/briefcast.toml``, validated into :class:`SourceConfig` values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from briefcast.errors import ConfigError
from briefcast.ingest.service import DEFAULT_MAX_BYTES

SourceKind = Literal["folder", "url", "feed"]


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One ``[[source]]`` table. ``location`` is the folder path or the URL."""

    name: str
    kind: SourceKind
    location: str
    interval: float = 300.0
    enabled: bool = True
    publish: bool = True
    timeout: float = 20.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_failures: int = 5
    backoff_max: float = 3600.0
    settle_seconds: float = 5.0
    min_entry_chars: int = 500
    max_entries: int = 20

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> SourceConfig:
        """Validate one table; raises :class:`ConfigError` naming the source and the bad key."""
        name = str(raw.get("name", "")).strip()
        if not name:
            raise ConfigError("every [[source]] needs a name")
        kind = str(raw.get("kind", "")).strip()
        if kind not in ("folder", "url", "feed"):
            raise ConfigError(f"source {name!r}: kind must be folder, url or feed, not {kind!r}")
        key = "path" if kind == "folder" else "url"
        location = str(raw.get(key) or raw.get("location") or "").strip()
        if not location:
            raise ConfigError(f"source {name!r}: set {key} = ...")
        if kind != "folder" and not location.startswith(("http://", "https://")):
            raise ConfigError(f"source {name!r}: url must start with http:// or https://")
        known = {f for f in cls.__dataclass_fields__ if f not in ("name", "kind", "location")}
        unknown = set(raw) - known - {"name", "kind", "path", "url", "location"}
        if unknown:
            raise ConfigError(f"source {name!r}: unknown setting(s) {', '.join(sorted(unknown))}")
        opts: dict[str, Any] = {}
        for f in known:
            if f not in raw:
                continue
            default: Any = cls.__dataclass_fields__[f].default
            try:
                value = raw[f] if isinstance(default, bool) else type(default)(raw[f])
            except (TypeError, ValueError):
                raise ConfigError(f"source {name!r}: {f} must be a {type(default).__name__}") from None
            if isinstance(default, bool) and not isinstance(value, bool):
                raise ConfigError(f"source {name!r}: {f} must be true or false")
            if not isinstance(default, bool) and value <= 0:
                raise ConfigError(f"source {name!r}: {f} must be positive")
            opts[f] = value
        return cls(name=name, kind=kind, location=location, **opts)  # type: ignore[arg-type]


def load_source_configs(raw: Sequence[Mapping[str, Any]]) -> list[SourceConfig]:
    """All ``[[source]]`` tables (``Settings.sources``), validated; names must be unique."""
    configs = [SourceConfig.from_mapping(r) for r in raw]
    seen: set[str] = set()
    for c in configs:
        if c.name in seen:
            raise ConfigError(f"two sources are named {c.name!r}; names must be unique")
        seen.add(c.name)
    return configs
