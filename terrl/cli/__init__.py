"""The `terrl` command line (click): one module per command, exit codes in `errors`.

Only this package prints for the user or exits; the layers below return data and diagnostics.
"""
