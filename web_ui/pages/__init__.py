"""The pages of the web interface, one module per area (see ``web_ui.app.PAGES``)."""
