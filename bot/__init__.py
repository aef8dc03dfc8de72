"""Loa: household outreach and feedback for Vietnam's communes."""
