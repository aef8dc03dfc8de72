"""End-to-end tests: Loa in Debian's Chromium, driven by Playwright."""
