"""Django admin for agents, tools, tool services, API keys and the embedding cache."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from agents.models import Agent, ApiKey, EmbeddingRecord, Tool, ToolParameter, ToolService
from agents.services import api_key_create, api_key_revoke


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("name", "model", "composition_mode", "published_version", "updated_at")
    list_filter = ("composition_mode", "moderation", "preamble", "llm_profile")
    search_fields = ("name", "description")
    filter_horizontal = ("tags",)
    readonly_fields = ("created_at", "updated_at")
    raw_id_fields = ("published_version",)


@admin.register(ToolService)
class ToolServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "agent", "url", "timeout_seconds")
    list_filter = ("agent",)
    search_fields = ("name", "url")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class ToolParameterInline(admin.TabularInline):
    model = ToolParameter
    extra = 0
    fields = ("position", "name", "type", "required", "description", "enum", "items")


@admin.register(Tool)
class ToolAdmin(admin.ModelAdmin):
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

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return ["name", "role", "user"]
        return ["name", "role", "user", "prefix", "key_hash", "created_by", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return []
        return ["role", "user", "prefix", "key_hash", "created_by", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        owner = obj.user if obj.user_id is not None else request.user
        key, raw = api_key_create(user=owner, name=obj.name, role=obj.role, created_by=request.user)
        # The admin keeps using `obj` (redirects, log entry): make it the saved row.
        obj.__dict__.update({name: value for name, value in key.__dict__.items() if name != "_state"})
        obj._state.adding = False
        obj._state.db = key._state.db
        messages.warning(request, f"API key created. Copy it now, it will not be shown again: {raw}")

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
