"""Lists out of the store: survey results and follow-ups, as .csv or .xlsx files."""
