"""Applying a plan: ``applier.apply_operations`` runs its stages with the shared pacing gate and
what each operation sends (``actions``).
"""
