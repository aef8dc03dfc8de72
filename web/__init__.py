"""HTTP: the console pages and, later, webhooks and the JSON API."""
