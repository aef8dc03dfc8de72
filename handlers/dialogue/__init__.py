"""Dialogue surveys: XLSForm forms held as chat conversations, one question at a time."""
