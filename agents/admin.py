"""Django admin for agents, tools, tool services, API keys, widget keys and the embedding cache: read-only inspection (the
studio changes agents and tools; keys are created in the studio's Admin area or with `create_api_key`), plus
revoking keys."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from agents.models import Agent, ApiKey, EmbeddingRecord, Tool, ToolParameter, ToolService, WidgetKey
from agents.services import api_key_revoke
from config.admin_mixins import ReadOnlyAdmin


@admin.register(Agent)
class AgentAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("name", "model", "composition_mode", "published_version", "updated_at")
    list_filter = ("composition_mode", "moderation", "preamble", "llm_profile")
    search_fields = ("name", "description")
    filter_horizontal = ("tags",)
    readonly_fields = ("created_at", "updated_at")
    raw_id_fields = ("published_version",)


@admin.register(ToolService)
class ToolServiceAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("name", "agent", "url", "timeout_seconds")
    list_filter = ("agent",)
    search_fields = ("name", "url")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class ToolParameterInline(ReadOnlyAdmin, admin.TabularInline):
    model = ToolParameter
    extra = 0
    fields = ("position", "name", "type", "required", "description", "enum", "items")


@admin.register(Tool)
class ToolAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("name", "agent", "implementation", "service", "consequential", "timeout_seconds")
    list_filter = ("agent", "implementation", "consequential")
    search_fields = ("name", "description")
    inlines = [ToolParameterInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "role", "user", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = ("role", "revoked_at")
    search_fields = ("name", "prefix")
    actions = ["revoke_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created in the studio's Admin area (shown once) or with `manage.py create_api_key`

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # revoked, not deleted: the list keeps who had access

    fields = ("name", "role", "user", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("name", "role", "user", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")

    @admin.action(description="Revoke selected API keys")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_revoke(key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


@admin.register(EmbeddingRecord)
class EmbeddingRecordAdmin(admin.ModelAdmin):
    list_display = ("model_id", "content_hash", "dimensions", "created_at")
    list_filter = ("model_id",)
    search_fields = ("content_hash",)
    readonly_fields = ("model_id", "content_hash", "dimensions", "vector", "created_at")


@admin.register(ToolParameter)
class ToolParameterAdmin(admin.ModelAdmin):
    list_display = ("name", "tool", "type", "required", "position")
    list_filter = ("type", "required", "tool__agent")
    search_fields = ("name", "tool__name")


@admin.register(WidgetKey)
class WidgetKeyAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Changed in the studio (agent → Widget); the identity secret is never shown here."""

    list_display = ("agent", "public_key", "enabled", "enforce_identity", "generation", "rotated_at")
    list_filter = ("enabled", "enforce_identity")
    search_fields = ("public_key", "agent__name")
    fields = ("agent", "public_key", "allowed_origins", "enabled", "enforce_identity", "generation", "rotated_at")
