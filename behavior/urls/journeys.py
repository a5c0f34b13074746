"""Journey pages: the list, a new journey, its page with the graph editor, its settings, deleting it; the
editor's JSON (the graph, layout) and the state and transition URLs that answer both JSON and plain forms."""

from __future__ import annotations

from django.urls import path

from behavior.views import journey_graph, journeys

JOURNEY = "agents/<int:agent_id>/journeys/<int:journey_id>/"

urlpatterns = [
    path("agents/<int:agent_id>/journeys/", journeys.journey_list_view, name="journey-list"),
    path("agents/<int:agent_id>/journeys/new/", journeys.journey_create_view, name="journey-create"),
    path(JOURNEY, journeys.journey_detail, name="journey-detail"),
    path(JOURNEY + "settings/", journeys.journey_update_view, name="journey-update"),
    path(JOURNEY + "delete/", journeys.journey_delete_view, name="journey-delete"),
    path(JOURNEY + "graph/", journey_graph.graph, name="journey-graph"),
    path(JOURNEY + "layout/", journey_graph.layout, name="journey-layout"),
    path(JOURNEY + "states/", journeys.journey_state_create_view, name="journey-state-create"),
    path(JOURNEY + "states/<int:state_id>/", journeys.journey_state_update_view, name="journey-state-update"),
    path(JOURNEY + "states/<int:state_id>/delete/", journeys.journey_state_delete_view, name="journey-state-delete"),
    path(JOURNEY + "transitions/", journeys.journey_transition_create_view, name="journey-transition-create"),
    path(
        JOURNEY + "transitions/<int:transition_id>/",
        journeys.journey_transition_update_view,
        name="journey-transition-update",
    ),
    path(
        JOURNEY + "transitions/<int:transition_id>/delete/",
        journeys.journey_transition_delete_view,
        name="journey-transition-delete",
    ),
]
