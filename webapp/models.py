"""No tables of its own: the webapp app holds pages; its migrations create the dashboard groups."""
