"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json.

>>> spec = openapi_spec()
>>> sorted(spec["paths"])[0]
'/api/v1/surveys/{survey_id}/responses'
"""

from __future__ import annotations

from typing import Any

import cxlab
from cxlab.exports import FORMATS
from cxlab.surveys.types import QUESTION_TYPES


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}},
    }


SURVEY_ID = {
    "name": "survey_id", "in": "path", "required": True,
    "description": "The survey's numeric id (see `cxlab survey list`).",
    "schema": {"type": "integer", "minimum": 1},
}

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "IETF httpapi draft: the request's key, instead of (or equal to) the "
                   "body's idempotency_key; scoped to the API key. Repeating it with the same "
                   "body returns the first result; with a different body, 422. A batch keys "
                   "its items <key>/<index>.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 100},
}

COMMON_ERRORS = {
    "401": _error("Missing or wrong API key."),
    "404": _error("No such survey for this key's tenant (another tenant's survey included)."),
    "413": _error("Request body larger than CXLAB_MAX_BODY_BYTES."),
}


def answers_schema() -> dict[str, Any]:
    """The ``answers`` object: each registered question type's answer shape.

    >>> schema = answers_schema()
    >>> {"type": "number"} in schema["additionalProperties"]["anyOf"]
    True
    """
    shapes: list[dict[str, Any]] = []
    for kind in QUESTION_TYPES.values():
        if kind.answer_schema not in shapes:
            shapes.append(kind.answer_schema)
    helps = "; ".join(kind.answer_help for kind in QUESTION_TYPES.values())
    return {
        "type": "object",
        "description": f"Question id → answer: {helps}.",
        # anyOf, not oneOf: an integer is also a number.
        "additionalProperties": {"anyOf": shapes},
    }


def openapi_spec() -> dict[str, Any]:
    """The API description as a JSON-ready dict."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cxlab survey ingestion API",
            "version": cxlab.__version__,
            "description": (
                "Send survey responses from kiosks, embedded forms and integrations, and "
                "export them. Every call needs `Authorization: Bearer <API key>` (create "
                "one with `cxlab apikey create --tenant T`); a key sees only its tenant."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": {
            "/api/v1/surveys/{survey_id}/responses": {
                "post": {
                    "operationId": "createResponse",
                    "summary": "Record one response",
                    "parameters": [SURVEY_ID, IDEMPOTENCY_KEY],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ResponseIn"}}}},
                    "responses": {
                        "201": {"description": "Recorded.", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Created"}}}},
                        "200": {"description": "Seen before (same idempotency_key): the "
                                "earlier response's id; nothing new is stored.",
                                "content": {"application/json": {
                                    "schema": {"$ref": "#/components/schemas/Created"}}}},
                        "400": _error("Body is not a JSON object."),
                        "422": _error("Answers or fields do not fit the survey definition, "
                                      "or the idempotency key was used with another body."),
                        "409": _error("The survey is closed or not open yet (`reason`: closed, "
                                      "not_yet_open)."),
                        **COMMON_ERRORS,
                    },
                },
                "get": {
                    "operationId": "exportResponses",
                    "summary": "Export responses (streamed)",
                    "parameters": [
                        SURVEY_ID,
                        {"name": "format", "in": "query",
                         "description": "csv (UTF-8 with BOM), jsonl, xlsx, sav (SPSS) and "
                                        "dta (Stata) with variable and value labels, long "
                                        "(one line per answer).",
                         "schema": {"type": "string", "enum": list(FORMATS),
                                    "default": "csv"}},
                        {"name": "since", "in": "query",
                         "description": "Only responses submitted at or after this time.",
                         "schema": {"type": "string", "format": "date-time"}},
                        {"name": "include_partial", "in": "query",
                         "description": "Also unfinished (partial) responses.",
                         "schema": {"type": "boolean", "default": False}},
                    ],
                    "responses": {
                        "200": {"description": "One row per response, in id order "
                                               "(long: one line per answer).",
                                "content": {f.content_type.split(";")[0]: {}
                                            for f in FORMATS.values()}},
                        "400": _error("A bad query parameter."),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/v1/surveys/{survey_id}/responses:batch": {
                "post": {
                    "operationId": "createResponses",
                    "summary": "Record up to 1,000 responses in one transaction (imports)",
                    "parameters": [SURVEY_ID, IDEMPOTENCY_KEY],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/BatchIn"}}}},
                    "responses": {
                        "201": {"description": "Recorded (ids in the order sent).",
                                "content": {"application/json": {
                                    "schema": {"$ref": "#/components/schemas/BatchCreated"}}}},
                        "200": {"description": "Every response had been seen before.",
                                "content": {"application/json": {
                                    "schema": {"$ref": "#/components/schemas/BatchCreated"}}}},
                        "400": _error("Body is not a JSON object."),
                        "422": _error("Some responses do not fit; nothing was stored."),
                        "409": _error("The survey is closed or not open yet (`reason`: closed, "
                                      "not_yet_open)."),
                        **COMMON_ERRORS,
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "ResponseIn": {
                    "type": "object",
                    "required": ["answers"],
                    "additionalProperties": False,
                    "properties": {
                        "answers": answers_schema(),
                        "attributes": {
                            "type": "object",
                            "description": "Attributes declared by the survey, e.g. store.",
                            "additionalProperties": {"type": "string", "maxLength": 200},
                        },
                        "submitted_at": {"type": "string", "format": "date-time",
                                         "description": "Defaults to now; needs a zone."},
                        "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 100,
                                            "description": "Scoped to the API key. The same "
                                            "key with the same body stores nothing new and "
                                            "returns the first id; with another body, 422."},
                    },
                },
                "BatchIn": {
                    "type": "object",
                    "required": ["responses"],
                    "additionalProperties": False,
                    "properties": {"responses": {
                        "type": "array", "minItems": 1, "maxItems": 1000,
                        "items": {"$ref": "#/components/schemas/ResponseIn"}}},
                },
                "Created": {"type": "object", "required": ["id"],
                            "properties": {"id": {"type": "integer"}}},
                "BatchCreated": {
                    "type": "object", "required": ["ids", "created"],
                    "properties": {"ids": {"type": "array", "items": {"type": "integer"}},
                                   "created": {"type": "integer"}},
                },
                "Errors": {
                    "type": "object", "required": ["errors"],
                    "properties": {"errors": {"type": "array", "items": {
                        "type": "object", "required": ["field", "message"],
                        "properties": {"field": {"type": "string"},
                                       "message": {"type": "string"}}}},
                        "reason": {"type": "string", "enum": ["closed", "not_yet_open"],
                                   "description": "Why a 409 refused the request."}},
                },
            },
        },
    }
