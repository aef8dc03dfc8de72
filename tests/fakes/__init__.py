"""In-process fakes of the Telegram Bot API and the Zalo OA, ZNS and OAuth APIs."""
