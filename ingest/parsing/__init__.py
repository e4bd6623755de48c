"""Parsing: one file in, a :class:`~kernel.documents.ParsedDocument` out.

- :class:`IsolatedParser` is what the service uses: the parser in a child process
  with a time and memory limit per document.
- :class:`UnstructuredParser` is the same parser in the calling process.
- :func:`detect` decides a file's format from its bytes, name and declared type.

Importing this package is cheap: unstructured is loaded on first use.
"""

from .base import Parser
from .detect import Detected, detect
from .isolated import IsolatedParser
from .unstructured_parser import UnstructuredParser

__all__ = ["Detected", "IsolatedParser", "Parser", "UnstructuredParser", "detect"]
