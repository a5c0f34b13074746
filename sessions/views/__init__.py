"""The sandbox's HTML views, one module per page family (sandbox home, one session, trace, flags); htmx
fragments are named partials of the page that owns them."""
