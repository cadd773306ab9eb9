"""Persistence in SQLite: sessions, turns and scores as they happen (database), and trainee
names with their passphrase hashes (trainees)."""
