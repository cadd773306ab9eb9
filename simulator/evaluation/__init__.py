"""Batch evaluation of transcripts and agreement with human labels (see agreement.py, batch.py)."""
