"""Survey definitions (the YAML format) and the surveys stored in the database."""

from pathlib import Path

from cxlab.surveys.definition import (
    Anonymity,
    DefinitionError,
    SurveyDefinition,
    load_definition,
    localize,
    parse_definition,
    validate_answers,
)

EXAMPLES_DIR = Path(__file__).with_name("examples")

__all__ = [
    "EXAMPLES_DIR",
    "Anonymity",
    "DefinitionError",
    "SurveyDefinition",
    "load_definition",
    "localize",
    "parse_definition",
    "validate_answers",
]
