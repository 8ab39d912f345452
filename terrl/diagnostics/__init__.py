"""Diagnostics: source files and spans, the one `Diagnostic` with its code registry, and its renderers.

The bottom layer: every other layer reports through it; it imports no other part of terrl."""
