"""The web app: simulator page, health check (webhooks and school API come later)."""
