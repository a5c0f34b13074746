"""The sandbox's HTML views (function views; htmx fragments are named partials of the page that owns them)."""
