import pytest

from answer.grounding import claims, ground, sentence_support

pytestmark = pytest.mark.unit


def test_claims_attach_markers_to_the_text_before_them() -> None:
    answer = "The fee is 10 EUR. [1] Refunds take 5 days. [2][3] Trailing words here."
    assert claims(answer) == [
        ("The fee is 10 EUR.", [1]),
        ("Refunds take 5 days.", [2, 3]),
        ("Trailing words here.", []),
    ]


def test_verbatim_sentence_is_fully_supported() -> None:
    source = "Invoices are due within 30 days of the invoice date."
    assert sentence_support(source, [source]) == 1.0


def test_a_wrong_number_is_unsupported_even_when_the_words_match() -> None:
    support = sentence_support(
        "Invoices are due within 45 days.", ["Invoices are due within 30 days."]
    )
    assert support == 0.0


def test_words_missing_from_the_sources_lower_support() -> None:
    support = sentence_support(
        "Employees receive free lunches and gym memberships.",
        ["Employees receive a laptop and a monitor."],
    )
    assert 0.0 < support < 0.5


def test_ground_scores_against_the_cited_chunk_only() -> None:
    cited = {1: "The X200 has 64 device slots.", 2: "Vacation is 25 days."}
    result = ground("Vacation is 25 days. [1]", cited, min_support=0.5)
    # The sentence is true of chunk 2, but it cites chunk 1: that is not support.
    assert result.score < 0.5
    assert result.unsupported == ("Vacation is 25 days.",)
    ok = ground("Vacation is 25 days. [2]", cited, min_support=0.5)
    assert ok.score == 1.0 and ok.unsupported == ()


def test_ground_averages_over_sentences() -> None:
    cited = {1: "Passwords must be at least 14 characters long."}
    result = ground(
        "Passwords must be at least 14 characters long. [1] Rotate them weekly. [1]",
        cited,
        min_support=0.5,
    )
    assert result.per_sentence[0] == 1.0
    assert result.per_sentence[1] == 0.0
    assert result.score == 0.5
    assert result.unsupported == ("Rotate them weekly.",)


def test_yes_and_no_are_checked_alike() -> None:
    """A bare "No." once counted as empty (support 1.0) while "Yes." scored 0.0."""
    source = ["Contractors are not eligible for the bonus."]
    assert sentence_support("No.", source) == sentence_support("Yes.", source) == 0.0
    assert sentence_support("No.", ["No, contractors are not eligible."]) == 1.0
    assert sentence_support("Yes.", ["Yes, contractors are eligible."]) == 1.0


def test_a_word_glued_to_the_next_sentence_still_counts_as_supported() -> None:
    source = "Steam engines spread in the nineteenth century.First came the railways."
    assert sentence_support("Railways came first in the nineteenth century.", [source]) == 1.0


def test_grounding_and_bm25_agree_on_what_a_term_is() -> None:
    """A plural the source states in the singular is support, as it is a BM25 match."""
    assert sentence_support("Invoices list the fees.", ["Each invoice lists a fee."]) == 1.0


# What the claim and question checks catch that word coverage cannot.

BRIDGE = (
    "The Marlow Bridge over the river Tane was completed in 1887 to a design by the"
    " engineer Edith Calloway. It replaced a wooden ferry crossing and carried a tram line"
    " until 1952. The bridge was listed as a protected monument in 1979."
)
LAB = (
    "On 12 March the board approved a budget of 2.4 million euros for the new laboratory."
    " Dr. Ana Ruiz will lead the project, with Peter Holm as her deputy."
)


def score(answer: str, source: str, question: str | None = None) -> float:
    return ground(answer, {1: source}, min_support=0.5, question=question).score


def test_a_negated_sentence_scores_below_the_faithful_one() -> None:
    source = "The Kestrel K2 connects on the 2.4 GHz band and does not support 5 GHz networks."
    faithful = score("The Kestrel K2 does not support 5 GHz networks.", source)
    flipped = score("The Kestrel K2 does support 5 GHz networks.", source)
    assert faithful == 1.0
    assert flipped < 0.5


def test_removing_the_sources_not_is_caught_as_well_as_adding_one() -> None:
    source = "Shared accounts are not permitted for remote staff."
    assert score("Shared accounts are permitted for remote staff.", source) < 0.5
    assert score("Shared accounts are not permitted for remote staff.", source) == 1.0


def test_a_negation_of_something_else_in_the_sentence_is_no_conflict() -> None:
    source = "Take one tablet twice a day. Do not exceed four tablets in 24 hours."
    assert score("Four tablets in 24 hours is the most.", source, None) >= 0.5


def test_a_swapped_number_is_flagged() -> None:
    result = ground("The bridge was completed in 1952.", {1: BRIDGE}, min_support=0.5)
    assert result.unsupported == ("The bridge was completed in 1952.",)
    assert score("The bridge was completed in 1887.", BRIDGE) == 1.0


def test_a_name_from_another_sentence_of_the_source_lowers_support() -> None:
    right = score("Ana Ruiz will lead the project.", LAB)
    swapped = score("Peter Holm will approve the budget.", LAB)
    assert right > swapped


def test_a_bare_name_that_is_in_the_source_but_not_where_the_question_points_scores_low() -> None:
    source = (
        "Dr. Ana Ruiz will lead the new laboratory project. Peter Holm runs the budget office"
        " and reports to the board."
    )
    question = "Who will lead the laboratory project?"
    right = score("Dr. Ana Ruiz.", source, question)
    assert right == 1.0
    # A floor, not zero: a question may reach its answer through another sentence.
    assert score("Peter Holm.", source, question) < 0.85


def test_a_bare_year_is_checked_against_the_sentence_the_question_matches() -> None:
    question = "When was the Marlow Bridge completed?"
    assert score("In 1887.", BRIDGE, question) == 1.0
    assert score("In 1979.", BRIDGE, question) < 1.0


def test_without_the_question_a_bare_name_is_judged_by_coverage_alone() -> None:
    assert score("Peter Holm.", LAB) == 1.0


def test_yes_and_no_are_read_against_what_the_sources_say_of_the_question() -> None:
    source = "Termination does not affect fees already accrued."
    question = "Does termination affect fees already accrued?"
    assert score("No.", source, question) > score("Yes.", source, question)
    assert 0.0 < score("Yes.", source, question) < 0.5


def test_a_leading_yes_must_agree_with_the_sources_too() -> None:
    source = "Multi-factor authentication is mandatory for remote access."
    question = "Is multi-factor authentication mandatory for remote access?"
    right = score(
        "Yes, multi-factor authentication is mandatory for remote access.", source, question
    )
    wrong = score(
        "No, multi-factor authentication is mandatory for remote access.", source, question
    )
    assert right == 1.0
    assert wrong < right


def test_an_answer_to_an_either_or_question_must_be_the_option_the_sources_bear_out() -> None:
    source = (
        "The Saimaa Gesture is a 1981 documentary about three Finnish rock groups."
        " Adam Clayton Powell is a 1989 documentary about a politician from Harlem."
    )
    question = (
        "Which documentary is about Finnish rock groups, Adam Clayton Powell or The Saimaa Gesture?"
    )
    assert score("The Saimaa Gesture", source, question) == 1.0
    assert score("Adam Clayton Powell", source, question) < 1.0
    assert score("Harlem", source, question) < score("Adam Clayton Powell", source, question)


def test_an_order_question_compares_the_years_of_the_options() -> None:
    source = "Pablo Trapero was born in 1971. Aleksander Ford was born in 1908."
    question = "Who was born first, Pablo Trapero or Aleksander Ford?"
    assert score("Aleksander Ford", source, question) > score("Pablo Trapero", source, question)


def test_a_meta_sentence_does_not_count_against_a_summary() -> None:
    source = "Riverside Clinic opens at 7 a.m. on weekdays from 1 June."
    summary = "Here is a summary of the document: Riverside Clinic opens at 7 a.m. on weekdays."
    result = ground(summary, {1: source}, min_support=0.5)
    assert result.score == 1.0
    assert result.unsupported == ()
    assert len(result.per_sentence) == 1


def test_a_framing_prefix_is_cut_and_the_rest_checked() -> None:
    source = "Late payments incur a fee of 40 EUR."
    assert score("According to the document, late payments incur a fee of 40 EUR.", source) == 1.0
    assert score("According to the document, late payments incur a fee of 90 EUR.", source) < 0.5


def test_an_answer_of_framing_only_claims_nothing() -> None:
    result = ground("Here are the key points:", {1: "Anything."}, min_support=0.5)
    assert result == ground("", {1: "Anything."}, min_support=0.5)


def test_a_quote_spanning_a_lead_in_and_its_items_is_fully_supported() -> None:
    chunk = (
        "3.2 Either party may terminate this Agreement:\n"
        "(a) for convenience, on 60 days' written notice to the other party; or\n"
        "(b) at once, if the other party commits a material breach that Acme Ltd fails "
        "to remedy within 30 days."
    )
    quote = " ".join(chunk.split())
    assert ground(f"{quote} [1]", {1: chunk}, min_support=0.5).score == 1.0
    # Not a quote: the claim checks still apply to it.
    flipped = quote.replace("may terminate", "may not terminate")
    assert ground(f"{flipped} [1]", {1: chunk}, min_support=0.5).score < 0.5


def test_a_figure_not_attached_to_the_unit_asked_scores_below_the_one_that_is() -> None:
    source = "The terminal handled 294,000 passengers in 2012, a 94% increase since 2002."
    question = "The airport handled how many passengers in 2012?"
    right = ground("294,000", {1: source}, min_support=0.5, question=question)
    wrong = ground("94", {1: source}, min_support=0.5, question=question)
    assert right.score == 1.0
    assert wrong.score < 0.5 and wrong.unsupported == ("94",)


def test_a_name_of_another_kind_than_asked_scores_below_the_right_kind() -> None:
    source = (
        "Sang Wook Cheong is a materials scientist at Rutgers University. Rutgers University"
        " is the largest institution for higher education in New Jersey."
    )
    question = "What state does Sang Wook Cheong work in as a materials scientist?"
    right = ground("New Jersey", {1: source}, min_support=0.5, question=question)
    wrong = ground("Rutgers University", {1: source}, min_support=0.5, question=question)
    assert right.score == 1.0
    assert wrong.score == 0.5  # it stands by the question's words, but is no state
