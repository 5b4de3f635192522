"""Survey definitions (the YAML format) and the surveys stored in the database."""

from pathlib import Path

from cxlab.surveys.answers import validate_answers
from cxlab.surveys.definition import (
    Anonymity,
    DefinitionError,
    SurveyDefinition,
    localize,
)
from cxlab.surveys.parsing import load_definition, parse_definition

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
