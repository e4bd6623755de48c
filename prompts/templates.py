"""Prompt templates: Jinja2 in a sandbox, rendered into chat messages.

A prompt is two templates, ``system`` and ``user``, rendered with the same variables
into ``[{"role": "system", ...}, {"role": "user", ...}]``. The sandbox keeps a
template from reaching Python internals (it is data an admin typed, not code we
ship); ``StrictUndefined`` turns a misspelt variable into an error instead of an
empty string the model would silently never see.

The variables the service supplies to the ``answer`` prompt (the contract; a
template may use any of them and nothing else):

- ``question`` (str): the caller's question, as asked.
- ``sources`` (list of dict): the retrieved chunks the answer may use, in order,
  each ``{"n": int, "title": str | None, "source": str | None, "section": str | None,
  "page": int | None, "text": str}``; ``n`` is 1-based and is the number an answer
  cites as ``[n]``.
- ``today`` (str): today's date, ISO 8601 (``2026-11-30``).

:data:`ANSWER_SAMPLE` holds realistic values of exactly these; a prompt is refused
at creation unless it renders with them, its ``user`` template uses ``question``,
and one of its templates uses ``sources`` (:func:`check_prompt`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from kernel.errors import InvalidInputError

# The longest template accepted: a prompt is instructions, not a document.
MAX_TEMPLATE_CHARS = 32_000

ANSWER_SAMPLE: dict[str, object] = {
    "question": "How many vacation days do full-time employees get?",
    "sources": [
        {
            "n": 1,
            "title": "Northwind Analytics Employee Handbook",
            "source": "employee-handbook.md",
            "section": "Time off > Vacation",
            "page": None,
            "text": "Full-time employees receive 25 vacation days per calendar year.",
        },
        {
            "n": 2,
            "title": None,
            "source": "benefits-2026.pdf",
            "section": None,
            "page": 3,
            "text": "Part-time employees accrue vacation in proportion to their hours.",
        },
    ],
    "today": "2026-11-30",
}


@cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )


def render(system: str, user: str, variables: Mapping[str, object]) -> list[dict[str, str]]:
    """The chat messages of a prompt; :class:`InvalidInputError` says which part failed and why."""
    return [
        {"role": "system", "content": _render("system", system, variables)},
        {"role": "user", "content": _render("user", user, variables)},
    ]


def check_renders(system: str, user: str, variables: Mapping[str, object]) -> None:
    """Raise :class:`InvalidInputError` unless both templates render with ``variables``."""
    render(system, user, variables)


def check_prompt(system: str, user: str, sample: Mapping[str, object] = ANSWER_SAMPLE) -> None:
    """What a new prompt version must pass: it renders, and the model sees what it needs.

    A template that renders but never shows the model the question, or the sources,
    would make every answer a guess; it is refused here rather than found in production.
    """
    for part, text in (("system", system), ("user", user)):
        if len(text) > MAX_TEMPLATE_CHARS:
            raise InvalidInputError(
                f"the {part} template is {len(text)} characters long; "
                f"the limit is {MAX_TEMPLATE_CHARS}"
            )
        if "\x00" in text:
            raise InvalidInputError(f"the {part} template contains a NUL character")
    check_renders(system, user, sample)
    used_in_user = _variables("user", user)
    if "question" not in used_in_user:
        raise InvalidInputError(
            "the user template never uses {{ question }}: the model would not see the question"
        )
    if "sources" not in used_in_user | _variables("system", system):
        raise InvalidInputError(
            "neither template uses {{ sources }}: the model would not see the sources"
        )


def _variables(part: str, text: str) -> set[str]:
    """The variables ``text`` reads from the context (not those it sets itself)."""
    env = _environment()
    try:
        return set(meta.find_undeclared_variables(env.parse(text)))
    except TemplateSyntaxError as exc:
        raise _syntax_error(part, exc) from None


def _render(part: str, text: str, variables: Mapping[str, object]) -> str:
    env = _environment()
    try:
        return env.from_string(text).render(variables)
    except TemplateSyntaxError as exc:
        raise _syntax_error(part, exc) from None
    except UndefinedError as exc:
        known = ", ".join(sorted(variables)) or "none"
        raise InvalidInputError(
            f"the {part} template uses something undefined: {exc.message} "
            f"(the variables are: {known})"
        ) from None
    except SecurityError as exc:
        raise InvalidInputError(
            f"the {part} template does something the sandbox forbids: {exc.message}"
        ) from None
    except TemplateError as exc:
        raise InvalidInputError(f"the {part} template cannot render: {exc.message}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        # A template is code of a kind: `{{ question + 1 }}` fails in Python, not Jinja.
        raise InvalidInputError(
            f"the {part} template cannot render: {type(exc).__name__}: {exc}"
        ) from None


def _syntax_error(part: str, exc: TemplateSyntaxError) -> InvalidInputError:
    return InvalidInputError(
        f"the {part} template has a syntax error on line {exc.lineno}: {exc.message}"
    )
