"""``ragline eval``: the measuring instruments, each printing a table and writing a report.

Every eval writes a JSON report (``evals.report``) and takes ``--baseline REPORT.json
--tolerance X``: a quality metric worse than the baseline's by more than the tolerance
exits 1, so CI and release gates can stop a change that makes answers worse.
"""

from __future__ import annotations

import typer

from ragline.eval_answers_cmd import answers
from ragline.eval_grounding_cmd import grounding
from ragline.eval_pii_cmd import pii
from ragline.eval_retrieval_cmd import retrieval

eval_app = typer.Typer(
    help="Measure retrieval, answers, grounding and PII detection; gate on a baseline report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
eval_app.command("retrieval")(retrieval)
eval_app.command("grounding")(grounding)
eval_app.command("answers")(answers)
eval_app.command("pii")(pii)
