"""When things happen: APScheduler jobs that write outbox rows (arrives with broadcasts)."""
