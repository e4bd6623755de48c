"""What a term, a sentence and a clause are: one answer for the whole service.

Chunkers, parsing, BM25 and grounding all read text. When each kept its own rules
they drifted apart (grounding and BM25 disagreed on what a term is), so the rules
live here, with one test suite. This room imports nothing of ragline's rooms: any
of them may use it.
"""
