"""Forms of the evaluation run pages: starting a run (which version, which cases by key or tag, repeats, concurrency,
the pass rate it must reach) and picking the run to compare with."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings

from agents.models import Agent
from behavior.evaluations.format import CASE_KEY_PATTERN
from behavior.evaluations.runs import MAX_REPEATS
from behavior.models import BehaviorVersion

DRAFT = "draft"
PUBLISHED = "published"
VERSION_REF = re.compile(r"^(draft|published|[1-9][0-9]{0,8})$")
VERSIONS_OFFERED_MAX = 500
KEYS_MAX = 1000
TAGS_MAX = 20
TAG_MAX_CHARS = 80
_CASE_KEY = re.compile(CASE_KEY_PATTERN)


class ListInput(forms.TextInput):
    """A text input that also takes the same name several times (`keys=a&keys=b`), joined with commas."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if hasattr(data, "getlist"):
            values = [str(value) for value in data.getlist(name)]
            return ", ".join(values) if values else None
        return data.get(name)


class ListHiddenInput(forms.MultipleHiddenInput):
    """Hidden inputs, one per name, read back like ListInput."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return ListInput.value_from_datadict(self, data, files, name)  # type: ignore[arg-type]

    def format_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return super().format_value(value)


class ListField(forms.CharField):
    """Comma-separated names (or the name repeated), each checked by `check`, duplicates dropped."""

    widget = ListInput

    def __init__(self, *, most: int, noun: str, **kwargs: Any) -> None:
        self.most = most
        self.noun = noun
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 100_000)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(str(item) for item in value) if isinstance(value, list | tuple) else value

    def check(self, item: str) -> None:  # overridden
        return None

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().clean(value) or ""
        items = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
        if len(items) > self.most:
            raise forms.ValidationError(f"At most {self.most} {self.noun}s.")
        for item in items:
            self.check(item)
        return items


class CaseKeysField(ListField):
    def check(self, item: str) -> None:
        if not _CASE_KEY.match(item):
            raise forms.ValidationError(
                f"{item[:60]!r} is not a test case key: lower-case letters, digits and hyphens, at most 80."
            )


class CaseTagsField(ListField):
    def check(self, item: str) -> None:
        if len(item) > TAG_MAX_CHARS:
            raise forms.ValidationError(f"A tag has at most {TAG_MAX_CHARS} characters.")


class RunForm(forms.Form):
    """What to run: the version (the draft, the published one or any past number), the cases (all, or those with
    one of the keys or tags), how often each, how many at once, and the pass rate the run must reach."""

    version = forms.CharField(
        initial=DRAFT,
        max_length=12,
        widget=forms.Select,
        help_text="The draft as it is now, the version customers use, or any past version.",
    )
    tags = CaseTagsField(
        most=TAGS_MAX,
        noun="tag",
        label="Only cases tagged",
        help_text="Comma-separated test case tags; empty runs every case.",
        widget=ListInput(attrs={"placeholder": "e.g. refunds, smoke"}),
    )
    keys = CaseKeysField(most=KEYS_MAX, noun="case key", label="Only the cases", widget=ListHiddenInput)
    repeats = forms.IntegerField(
        min_value=1,
        max_value=MAX_REPEATS,
        initial=1,
        help_text=f"Each case runs this many times (1 to {MAX_REPEATS}); pass^k needs 2 or more.",
    )
    concurrency = forms.IntegerField(
        min_value=1,
        label="At once",
        help_text="How many attempts run at the same time.",
    )
    min_pass_rate = forms.IntegerField(
        min_value=0,
        max_value=100,
        initial=100,
        label="Minimum pass rate (%)",
        help_text="Below it the run counts as failed.",
    )

    def __init__(self, *args: Any, agent: Agent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent = agent
        limit = int(settings.EVAL_MAX_CONCURRENCY)
        concurrency = self.fields["concurrency"]
        concurrency.validators.append(_at_most(limit))
        concurrency.initial = int(settings.EVAL_DEFAULT_CONCURRENCY)
        concurrency.widget.attrs.update(min=1, max=limit)
        concurrency.help_text = f"How many attempts run at the same time (1 to {limit})."
        numbers = list(
            BehaviorVersion.objects.filter(agent=agent)
            .order_by("-number")
            .values_list("number", flat=True)[:VERSIONS_OFFERED_MAX]
        )
        published = agent.published_version.number if agent.published_version is not None else None
        choices = [(DRAFT, "The draft")]
        if published is not None:
            choices.append((PUBLISHED, f"The published version (v{published})"))
        choices += [(str(number), f"v{number}") for number in numbers]
        self.fields["version"].widget.choices = choices

    def clean_version(self) -> BehaviorVersion | None:
        ref = (self.cleaned_data.get("version") or DRAFT).strip()
        if not VERSION_REF.match(ref):
            raise forms.ValidationError("Choose the draft, the published version or a version number.")
        if ref == DRAFT:
            return None
        if ref == PUBLISHED:
            if self.agent.published_version_id is None:
                raise forms.ValidationError("This agent has never been published: run the draft.")
            return self.agent.published_version
        version = BehaviorVersion.objects.filter(agent=self.agent, number=int(ref)).first()
        if version is None:
            raise forms.ValidationError(f"This agent has no version {ref}.")
        return version

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        tags = data.get("tags") or []
        if tags and not data.get("keys"):
            held = {tag for row in self.agent.eval_cases.values_list("tags", flat=True) for tag in row or []}
            if not held & set(tags):
                self.add_error("tags", f"No test case has the tag{'s' if len(tags) > 1 else ''} {', '.join(tags)}.")
        return data

    def run_arguments(self) -> dict[str, Any]:
        """The keyword arguments of runs.run_create (but agent, actor and purpose)."""
        data = self.cleaned_data
        return {
            "version": data["version"],
            "keys": data["keys"],
            "tags": data["tags"],
            "repeats": data["repeats"],
            "concurrency": data["concurrency"],
            "min_pass_rate": data["min_pass_rate"] / 100,
        }


def _at_most(limit: int) -> Any:
    def validate(value: int) -> None:
        if value is not None and value > limit:
            raise forms.ValidationError(f"At most {limit} at once (EVAL_MAX_CONCURRENCY).")

    return validate


class CompareForm(forms.Form):
    """?baseline=<run id>: the run the page compares with (this run's own baseline when missing)."""

    baseline = forms.IntegerField(required=False, min_value=1, max_value=2**62)
