"""The three stance labels: their order, names and meaning. One source of truth
for the model's output layer, the API and the training data."""

REPORTING = "reporting"
QUOTE = "quote"
COMMENTARY = "commentary"

LABELS: tuple[str, ...] = (REPORTING, QUOTE, COMMENTARY)
LABEL2ID: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
ID2LABEL: dict[int, str] = dict(enumerate(LABELS))

DESCRIPTIONS: dict[str, str] = {
    REPORTING: "states events, facts, figures or background in the writer's own neutral voice",
    QUOTE: "relays what a named or described source said, argued, claimed, promised, warned or denied",
    COMMENTARY: "the writer's own evaluation, interpretation, speculation, prediction, recommendation or feeling",
}

# On a true tie the annotation guide prefers quote over commentary over reporting.
TIE_ORDER: tuple[str, ...] = (QUOTE, COMMENTARY, REPORTING)
