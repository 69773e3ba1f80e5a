from service import segment
from tests.conftest import SEEDS


def test_offsets_index_the_original_text_for_every_seed():
    for path in SEEDS:
        text = path.read_text(encoding="utf-8")
        for unit in segment.paragraphs(text) + segment.sentences(text):
            assert text[unit.start : unit.end] == unit.text


def test_blank_line_and_single_newline_separated_paragraphs():
    blank = "The council met on Monday to vote on the budget.\n\nThe mayor said the plan would cut waste.\n"
    single = "The council met on Monday to vote on the budget.\nThe mayor said the plan would cut waste.\n"
    for text in (blank, single):
        units = segment.paragraphs(text)
        assert [u.text for u in units] == [
            "The council met on Monday to vote on the budget.",
            "The mayor said the plan would cut waste.",
        ]


def test_wall_of_text_is_cut_into_paragraph_sized_runs_of_whole_sentences():
    text = (SEEDS[0]).read_text(encoding="utf-8")
    assert "\n" not in text.strip().split("\n\n\n\n")[-1]
    prose = [u for u in segment.paragraphs(text) if u.is_prose]
    assert len(prose) >= 5
    for unit in prose:
        assert len(unit.text) < 2 * segment.PARAGRAPH_TARGET_CHARS
    # whole sentences: each run ends where a sentence ends (or at the text's end)
    for unit in prose[:-1]:
        assert unit.text.rstrip()[-1] in ".!?\u201d\""


def test_seed_non_prose_units_are_skipped_with_reasons():
    reasons = {}
    for path in SEEDS:
        for unit in segment.paragraphs(path.read_text(encoding="utf-8")):
            if not unit.is_prose:
                reasons[unit.text] = unit.skip_reason
    assert reasons["Read the original article here"] == "navigation"
    assert reasons["Comments"] == "navigation"
    assert reasons["Details"] == "heading"
    assert reasons["What preceded"] == "heading"
    assert reasons["date 2025-04-24"] == "dateline"
    assert reasons["date 2025-04-02"] == "dateline"
    assert reasons["Ukraine's path to NATO is irreversible, nothing has changed - Rutte"] == "headline"


def test_skip_reasons_for_common_non_prose():
    assert segment.skip_reason("By Jane Smith and Tom Brown") == "byline"
    assert segment.skip_reason("Subscribe to our newsletter") == "navigation"
    assert segment.skip_reason("Too short.") == "fragment"
    assert segment.skip_reason("Markets slide as oil prices surge on supply fears") == "headline"
    assert segment.skip_reason("!!! ???") == "no words"
    assert segment.skip_reason("The minister resigned on Monday after a week of pressure.") is None


def test_sentences_respect_abbreviations_and_quotes():
    text = 'Mr. Smith met U.S. officials on Monday. "We agreed," he said. Talks resume at 9 a.m. Friday.'
    sentences = [u.text for u in segment.sentences(text)]
    assert sentences == ["Mr. Smith met U.S. officials on Monday.", '"We agreed," he said.', "Talks resume at 9 a.m. Friday."]


def test_given_paragraphs_keep_their_index_and_detect_non_prose():
    units = segment.given_units(["Comments", "The court ruled on Tuesday that the law was void. Appeals follow."], "sentence")
    assert [(i, u.skip_reason) for i, u in units] == [(0, "navigation"), (1, None), (1, "fragment")]
