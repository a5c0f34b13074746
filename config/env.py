"""Small helpers that read settings from the environment and reject malformed values loudly."""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs, unquote, urlparse


class ConfigurationError(RuntimeError):
    """An environment variable is set to a value the application cannot use."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ConfigurationError(f"{name}={raw!r} is not an integer") from error
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigurationError(f"{name}={value} is above the maximum {maximum}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as error:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from error
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name}={value} is below the minimum {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_prices(name: str) -> dict[str, dict[str, float]]:
    """A price table from JSON: {"model": {"prompt": dollars per million tokens, "completion": ...}}."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return {}
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise ConfigurationError(f"{name} is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise ConfigurationError(
            f'{name} must be an object like {{"gpt-4o-mini": {{"prompt": 0.15, "completion": 0.6}}}}'
        )
    prices: dict[str, dict[str, float]] = {}
    for model, entry in data.items():
        if not isinstance(entry, dict) or set(entry) - {"prompt", "completion"}:
            raise ConfigurationError(f'{name}: {model!r} needs {{"prompt": number, "completion": number}}')
        try:
            prices[str(model)] = {part: float(entry.get(part, 0)) for part in ("prompt", "completion")}
        except (TypeError, ValueError) as error:
            raise ConfigurationError(f"{name}: the prices of {model!r} must be numbers") from error
        if any(value < 0 for value in prices[str(model)].values()):
            raise ConfigurationError(f"{name}: the prices of {model!r} cannot be negative")
    return prices


def database_from_url(url: str) -> dict[str, object]:
    """Turn `postgres://user:pass@host:port/name?sslmode=require` into a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ConfigurationError(
            f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use postgres://user:password@host:port/name)"
        )
    name = unquote(parsed.path.lstrip("/"))
    if not name:
        raise ConfigurationError("DATABASE_URL has no database name (postgres://user@host:5432/NAME)")
    try:
        port = parsed.port
    except ValueError as error:
        raise ConfigurationError(f"DATABASE_URL has a malformed port: {error}") from error
    options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 0,
        "ATOMIC_REQUESTS": False,
    }


def redis_url_valid(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in {"redis", "rediss"} or not parsed.hostname:
        raise ConfigurationError(f"REDIS_URL={url!r} is not a redis:// URL (redis://host:6379/0)")
    return url
