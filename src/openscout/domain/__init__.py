"""The customer model and its rules: pure Python, standard library only.

tests/unit/test_fences.py keeps it so.
"""
