"""One practice conversation: the session's turn loop, its transcript types and the debrief."""
