"""What happens to an inbound message: pure logic over storage (arrives with the channels)."""
