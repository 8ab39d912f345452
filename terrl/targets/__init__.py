"""Targets: the evaluators compiled from the IR (in-process, a stand-alone Python module, SQL, JSON), the reference interpreter and `test` blocks."""
