"""The kernel: settings, the error tree and the value types every room shares.

It imports nothing of ragline's own (an import contract checks it), so any room may
import it without creating a cycle.
"""
