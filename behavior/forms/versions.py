"""Forms of the versions pages: publishing with a note, rolling back, picking two versions to compare,
exporting a document and importing one from a file."""

from __future__ import annotations

from typing import Any

from django import forms

from behavior.services.documents import MAX_DOCUMENT_BYTES, DocumentFormat, document_format
from behavior.services.versions import MAX_NOTE_LENGTH
from config.errors import ValidationFailed

DRAFT = "draft"
EMPTY = "empty"
PUBLISHED = "published"
VERSION_REF = r"^(draft|[1-9][0-9]{0,8})$"
IMPORT_MAX_BYTES = MAX_DOCUMENT_BYTES


def _megabytes(size: int) -> str:
    """A file size people read: 512 KB, 8.0 MB."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


class PublishForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What changed and why"}),
        help_text="Shown in the version history.",
    )


class RollbackForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Leave empty for “Rollback to vN”.",
    )
    confirm = forms.BooleanField(
        label="Yes, replace the draft with this version's content and publish it as a new version",
        error_messages={"required": "Tick the box to confirm the rollback."},
    )


class CompareForm(forms.Form):
    """?base=<number|draft|empty|published>&other=<number|draft|published>; missing values take the defaults."""

    base = forms.RegexField(regex=r"^(draft|empty|published|[1-9][0-9]{0,8})$", required=False, max_length=12)
    other = forms.RegexField(regex=r"^(draft|published|[1-9][0-9]{0,8})$", required=False, max_length=12)

    def refs(self) -> tuple[str, str]:
        return (self.cleaned_data.get("base") or PUBLISHED, self.cleaned_data.get("other") or DRAFT)


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[("yaml", "YAML"), ("json", "JSON")], required=False)
    number = forms.RegexField(regex=VERSION_REF, required=False, max_length=12)

    def choice(self) -> tuple[DocumentFormat, str]:
        fmt: DocumentFormat = "json" if self.cleaned_data.get("format") == "json" else "yaml"
        return (fmt, self.cleaned_data.get("number") or DRAFT)


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Behavior document",
        help_text=f"A .yaml, .yml or .json file exported from Decorum, at most {_megabytes(IMPORT_MAX_BYTES)}.",
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,.json,application/json,application/yaml"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {_megabytes(upload.size)}; the limit is {_megabytes(IMPORT_MAX_BYTES)}. "
                "Split the behavior into smaller documents or import it through the API."
            )
        try:
            self.document_format = document_format(upload.name or "")
        except ValidationFailed:
            raise forms.ValidationError("Choose a .yaml, .yml or .json file.") from None
        return upload
