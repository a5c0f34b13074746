"""Django admin for customers, sessions, the event log, turns, traces, flags, handoffs, notes, ratings, widget
visitors and webhook deliveries (events, traces and the widget and webhook records are read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from sessions.models import (
    Customer,
    Event,
    Flag,
    Handoff,
    OperatorNote,
    Rating,
    Session,
    Trace,
    Turn,
    WebhookDelivery,
    WebhookEndpoint,
    WidgetVisitor,
)


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
    raw_id_fields = ("customer", "version", "parent", "created_by", "assigned_to")
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


@admin.register(Handoff)
class HandoffAdmin(ReadOnlyAdmin):
    list_display = ("session", "reason", "requested_at", "taken_by", "taken_at", "returned_at")
    list_filter = ("reason",)
    search_fields = ("session__uid",)
    list_select_related = ("session", "taken_by")


@admin.register(OperatorNote)
class OperatorNoteAdmin(ReadOnlyAdmin):
    list_display = ("session", "author", "created_at")
    search_fields = ("session__uid", "text")


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ("session", "scale", "score", "created_at")
    list_filter = ("scale", "score")


@admin.register(WidgetVisitor)
class WidgetVisitorAdmin(ReadOnlyAdmin):
    list_display = ("uid", "agent", "customer", "external_id", "verified", "last_seen_at")
    list_filter = ("agent", "verified")
    search_fields = ("uid", "external_id", "customer__name")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    """Changed in the studio (agent → Webhooks); the signing secret is never shown here."""

    list_display = ("url", "agent", "enabled", "created_at")
    list_filter = ("agent", "enabled")
    fields = ("agent", "url", "description", "event_types", "enabled", "created_at", "updated_at")
    readonly_fields = ("created_at", "updated_at")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("event_type", "endpoint", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("status", "event_type")
    search_fields = ("uid",)
