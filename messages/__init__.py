"""Words and their rendering: the Vietnamese catalog, formatting, text keys, phones. Pure."""
