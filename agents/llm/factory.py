"""Which `LLM` an agent talks to: the default OpenAI-compatible server from settings, or a named
profile from the environment (`LLM_PROFILE_<NAME>_BASE_URL`, ...), or `UnconfiguredLLM`."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlparse

from django.conf import settings

from agents.llm.openai_adapter import STRUCTURED_OUTPUT_MODES, OpenAILLM, StructuredOutputMode
from agents.llm.unconfigured import NOT_CONFIGURED_MESSAGE, UnconfiguredLLM
from behavior.engine.ports import LLM
from config.env import ConfigurationError, env_float, env_int, env_str

DEFAULT_PROFILE = "default"
_PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")
_PROFILE_ENV = re.compile(r"^LLM_PROFILE_([A-Z0-9_]+?)_(BASE_URL|API_KEY)$")


@dataclass(frozen=True)
class LLMEndpoint:
    """How to reach one OpenAI-compatible server. `api_key` never leaves the process."""

    profile: str
    base_url: str | None
    api_key: str
    timeout_seconds: float
    max_retries: int
    structured_output: StructuredOutputMode


def llm_for_agent(*, model: str, profile: str) -> LLM:
    """The LLM for an agent's model and server profile ("" or "default" = OPENAI_* settings).

    An unconfigured server gives an `UnconfiguredLLM`, whose calls raise `LLMNotConfiguredError`
    with a message saying what to set; malformed settings raise `ConfigurationError`.
    """
    name = _profile_name(profile)
    if not _PROFILE_NAME.match(name):
        return UnconfiguredLLM(_unconfigured_message(profile))
    endpoint = llm_endpoint(profile=name)
    if endpoint is None:
        return UnconfiguredLLM(_unconfigured_message(profile))
    return _adapter(endpoint, model or str(getattr(settings, "DEFAULT_LLM_MODEL", "")))


def llm_endpoint(*, profile: str) -> LLMEndpoint | None:
    """The server of `profile`, or None when neither its base URL nor its API key is set."""
    name = _profile_name(profile)
    timeout = float(getattr(settings, "OPENAI_TIMEOUT_SECONDS", 60.0))
    retries = int(getattr(settings, "OPENAI_MAX_RETRIES", 3))
    if name == DEFAULT_PROFILE:
        base_url = str(getattr(settings, "OPENAI_BASE_URL", "") or "")
        api_key = str(getattr(settings, "OPENAI_API_KEY", "") or "")
        mode_variable, url_variable = "OPENAI_STRUCTURED_OUTPUT", "OPENAI_BASE_URL"
        mode = env_str(mode_variable, "json_schema")
    else:
        prefix = _profile_prefix(name)
        base_url = env_str(f"{prefix}BASE_URL")
        api_key = env_str(f"{prefix}API_KEY")
        timeout = env_float(f"{prefix}TIMEOUT_SECONDS", timeout, minimum=0.1)
        retries = env_int(f"{prefix}MAX_RETRIES", retries, minimum=0, maximum=10)
        mode_variable, url_variable = f"{prefix}STRUCTURED_OUTPUT", f"{prefix}BASE_URL"
        mode = env_str(mode_variable, "json_schema")
    if not base_url and not api_key:
        return None
    if base_url:
        _check_base_url(base_url, variable=url_variable)
    if mode not in STRUCTURED_OUTPUT_MODES:
        raise ConfigurationError(f"{mode_variable}={mode!r} must be one of {', '.join(STRUCTURED_OUTPUT_MODES)}")
    return LLMEndpoint(
        profile=name,
        base_url=base_url or None,
        api_key=api_key,
        timeout_seconds=timeout,
        max_retries=retries,
        structured_output=cast(StructuredOutputMode, mode),  # checked against STRUCTURED_OUTPUT_MODES above
    )


def llm_configuration_status(*, profile: str | None = None) -> dict[str, Any]:
    """What pages show about the model setup (never a key): `configured` and `message` for `profile`
    (the default server when None), and `profiles`, every profile in the environment by name."""
    profiles = {name: _profile_status(name) for name in sorted(_profile_names_in_environment() | {DEFAULT_PROFILE})}
    selected = DEFAULT_PROFILE if profile is None else _profile_name(profile)
    entry = profiles.get(selected) or _profile_status(profile or DEFAULT_PROFILE)
    return {
        "configured": entry["configured"],
        "message": f"Language model server: {entry['server']}" if entry["configured"] else entry["message"],
        "profile": selected,
        "default_model": str(getattr(settings, "DEFAULT_LLM_MODEL", "")),
        "profiles": profiles,
    }


def _profile_status(profile: str) -> dict[str, Any]:
    if not _PROFILE_NAME.match(_profile_name(profile)):
        return {"configured": False, "message": _unconfigured_message(profile)}
    try:
        endpoint = llm_endpoint(profile=profile)
    except ConfigurationError as error:
        return {"configured": False, "message": str(error)}
    if endpoint is None:
        return {"configured": False, "message": _unconfigured_message(profile)}
    return {
        "configured": True,
        "server": _displayable_url(endpoint.base_url) if endpoint.base_url else "api.openai.com",
        "api_key_set": bool(endpoint.api_key),
        "structured_output": endpoint.structured_output,
        "timeout_seconds": endpoint.timeout_seconds,
        "max_retries": endpoint.max_retries,
    }


def _unconfigured_message(profile: str) -> str:
    name = _profile_name(profile)
    if name == DEFAULT_PROFILE:
        return NOT_CONFIGURED_MESSAGE
    if not _PROFILE_NAME.match(name):
        return f"The language model profile {profile!r} is not a valid name (letters, digits, _ and -)"
    prefix = _profile_prefix(name)
    return (
        f"The language model profile {name!r} is not configured: set {prefix}BASE_URL (and optionally {prefix}API_KEY)"
    )


@functools.lru_cache(maxsize=64)
def _adapter(endpoint: LLMEndpoint, model: str) -> OpenAILLM:
    # One adapter per endpoint and model, so its HTTP connection pools are shared by all turns.
    return OpenAILLM(
        api_key=endpoint.api_key,
        base_url=endpoint.base_url,
        default_model=model,
        timeout_seconds=endpoint.timeout_seconds,
        max_retries=endpoint.max_retries,
        structured_output=endpoint.structured_output,
        profile=endpoint.profile,
    )


def _profile_name(profile: str) -> str:
    """The canonical name: lower case, `-` as `_` ("GPU-box" and "gpu_box" are one profile)."""
    name = (profile or "").strip().lower().replace("-", "_")
    return name or DEFAULT_PROFILE


def _profile_prefix(name: str) -> str:
    return f"LLM_PROFILE_{name.upper()}_"


def _profile_names_in_environment() -> set[str]:
    names = set()
    for variable in os.environ:
        match = _PROFILE_ENV.match(variable)
        if match and os.environ[variable]:
            names.add(match.group(1).lower())
    return names


def _check_base_url(url: str, *, variable: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise ConfigurationError(f"{variable}={url!r} is not an http(s) URL (e.g. http://127.0.0.1:8080/v1)")


def _displayable_url(url: str) -> str:
    parsed = urlparse(url)
    host = parsed.hostname or ""
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{host}{port}{parsed.path}"
