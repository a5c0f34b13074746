"""The studio's HTML views, one module per page family (agents, guidelines, journeys, glossary, canned
responses, variables, tools, tags, versions, lint, audit, admin). Fragments are named partials of the page
that owns them; every view authorizes through behavior.views.access before it touches an object."""
