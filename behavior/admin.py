"""Django admin for the behavior model: read-only inspection. Every change goes through the studio or the API,
whose services validate it, check the editor's revision, record it in the audit trail and move the draft
revision that the lint and "unpublished changes" caches follow; an admin form would bypass all of that."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from behavior.models import (
    AuditEntry,
    BehaviorVersion,
    CannedResponse,
    ContextVariable,
    ContextVariableValue,
    EvalCase,
    EvalResult,
    EvalRun,
    GlossaryTerm,
    Guideline,
    Journey,
    JourneyState,
    JourneyTransition,
    LintRun,
    Relationship,
    Tag,
)
from config.admin_mixins import ReadOnlyAdmin


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(Guideline)
class GuidelineAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("key", "agent", "title", "criticality", "priority", "enabled", "updated_at")
    list_filter = ("agent", "criticality", "enabled", "track", "continuous", "tags")
    search_fields = ("key", "title", "condition", "action")
    filter_horizontal = ("tags", "tools")
    readonly_fields = ("created_at", "updated_at")


@admin.register(Relationship)
class RelationshipAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("__str__", "agent", "kind", "source_type", "target_type")
    list_filter = ("agent", "kind", "source_type", "target_type")
    raw_id_fields = (
        "source_guideline",
        "source_journey",
        "source_tool",
        "target_guideline",
        "target_journey",
        "target_tool",
    )


class JourneyStateInline(ReadOnlyAdmin, admin.TabularInline):
    model = JourneyState
    extra = 0
    fields = ("position", "key", "kind", "action", "tool", "initial")


class JourneyTransitionInline(ReadOnlyAdmin, admin.TabularInline):
    model = JourneyTransition
    extra = 0
    fields = ("source", "target", "condition")


@admin.register(Journey)
class JourneyAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("key", "agent", "title", "updated_at")
    list_filter = ("agent",)
    search_fields = ("key", "title", "description")
    filter_horizontal = ("triggers", "tags")
    inlines = [JourneyStateInline, JourneyTransitionInline]


@admin.register(GlossaryTerm)
class GlossaryTermAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("name", "agent")
    list_filter = ("agent",)
    search_fields = ("name", "description")
    filter_horizontal = ("tags",)


class ContextVariableValueInline(ReadOnlyAdmin, admin.TabularInline):
    model = ContextVariableValue
    extra = 0
    fields = ("scope", "tag", "customer", "value", "updated_at")
    readonly_fields = ("updated_at",)
    raw_id_fields = ("customer",)


@admin.register(ContextVariable)
class ContextVariableAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("name", "agent", "tool", "freshness_seconds")
    list_filter = ("agent",)
    search_fields = ("name", "description")
    filter_horizontal = ("tags",)
    inlines = [ContextVariableValueInline]


@admin.register(CannedResponse)
class CannedResponseAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("key", "agent", "template")
    list_filter = ("agent", "tags")
    search_fields = ("key", "template")
    filter_horizontal = ("tags", "guidelines", "journey_states")


@admin.register(BehaviorVersion)
class BehaviorVersionAdmin(admin.ModelAdmin):
    """Versions are immutable: read-only here, created only by publishing."""

    list_display = ("agent", "number", "author", "note", "created_at")
    list_filter = ("agent",)
    search_fields = ("note",)
    readonly_fields = ("agent", "number", "document", "author", "note", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BehaviorVersion | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BehaviorVersion | None = None) -> bool:
        return False


@admin.register(JourneyState)
class JourneyStateAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("key", "journey", "kind", "initial", "tool", "position")
    list_filter = ("kind", "initial", "journey__agent")
    search_fields = ("key", "action", "journey__key")
    filter_horizontal = ("tools",)


@admin.register(JourneyTransition)
class JourneyTransitionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("__str__", "journey", "condition")
    list_filter = ("journey__agent",)
    search_fields = ("journey__key", "source__key", "target__key", "condition")
    list_select_related = ("source", "target", "journey")


@admin.register(ContextVariableValue)
class ContextVariableValueAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("__str__", "variable", "scope", "updated_at")
    list_filter = ("scope", "variable__agent")
    search_fields = ("variable__name", "tag__name", "customer__name", "customer__external_id")
    raw_id_fields = ("customer",)
    list_select_related = ("variable", "tag")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail is append-only: readable here, never edited or deleted."""

    list_display = ("created_at", "username", "source", "action", "entity_type", "entity_label", "agent")
    list_filter = ("source", "action", "entity_type", "agent")
    search_fields = ("entity_label", "username")
    readonly_fields = [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False


@admin.register(LintRun)
class LintRunAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("agent", "kind", "status", "progress_done", "progress_total", "created_at")
    list_filter = ("status", "kind", "agent")
    readonly_fields = ("findings", "error", "started_at", "finished_at")


@admin.register(EvalCase)
class EvalCaseAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("key", "agent", "name", "kind", "revision", "updated_at")
    list_filter = ("kind", "agent")
    search_fields = ("key", "name")


@admin.register(EvalRun)
class EvalRunAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("id", "agent", "version", "status", "purpose", "progress_done", "progress_total", "created_at")
    list_filter = ("status", "purpose", "agent")


@admin.register(EvalResult)
class EvalResultAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("id", "run", "case_key", "repeat", "status", "finished_at")
    list_filter = ("status",)
    search_fields = ("case_key",)
