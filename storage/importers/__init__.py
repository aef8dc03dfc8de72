"""Importers: spreadsheets into the store, all-or-nothing, with a report."""
