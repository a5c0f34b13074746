"""Django admin for customers, sessions, the event log, turns, traces and flags (events are read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from sessions.models import Customer, Event, Flag, Session, Trace, Turn


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("__str__", "external_id", "created_at")
    search_fields = ("name", "external_id")
    list_filter = ("tags",)
    filter_horizontal = ("tags",)


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("uid", "agent", "customer", "source", "mode", "version", "updated_at")
    list_filter = ("agent", "source", "mode")
    search_fields = ("uid", "title", "customer__name", "customer__external_id")
    raw_id_fields = ("customer", "version", "parent", "created_by")
    readonly_fields = ("uid", "created_at", "updated_at")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("session", "offset", "kind", "source", "created_at")
    list_filter = ("kind", "source")
    search_fields = ("session__uid",)
    list_select_related = ("session",)


@admin.register(Turn)
class TurnAdmin(admin.ModelAdmin):
    list_display = ("pk", "session", "status", "attempts", "claimed_by", "created_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("session__uid", "claimed_by")
    raw_id_fields = ("session", "trigger_event")
    list_select_related = ("session",)


@admin.register(Trace)
class TraceAdmin(ReadOnlyAdmin):
    list_display = ("turn", "created_at")
    search_fields = ("turn__session__uid",)


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ("session", "event", "reason", "created_by", "created_at")
    search_fields = ("reason", "session__uid")
    raw_id_fields = ("session", "event", "created_by")
