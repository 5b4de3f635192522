"""Surveys made elsewhere, made cxlab definitions: Qualtrics ``.qsf`` (:mod:`.qualtrics`)
and LimeSurvey ``.lss`` (:mod:`.limesurvey`, both its older and newer structures).

:func:`import_survey` reads a file into an :class:`ImportReport`: the definition (a
mapping that :func:`cxlab.surveys.parse_definition` accepts, written out as YAML by
:func:`definition_yaml`) and a note for everything that could not be carried over as
it was — each with its source question id and what was done instead. Nothing is
dropped without a note.

>>> from pathlib import Path
>>> report = import_survey(Path("survey.txt"))
Traceback (most recent call last):
...
cxlab.surveys.importers.common.ImportRefused: survey.txt: not a .qsf or .lss file (by its name)
"""

from __future__ import annotations

from pathlib import Path

import yaml

from cxlab.surveys.importers.common import ImportNote, ImportRefused, ImportReport

__all__ = ["ImportNote", "ImportRefused", "ImportReport", "definition_yaml", "import_survey"]


def import_survey(path: Path) -> ImportReport:
    """The definition and notes of a ``.qsf`` or ``.lss`` file."""
    from cxlab.surveys.importers import limesurvey, qualtrics

    path = Path(path)
    readers = {".qsf": qualtrics.read_qsf, ".lss": limesurvey.read_lss}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ImportRefused(f"{path}: not a .qsf or .lss file (by its name)")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportRefused(f"{path}: cannot read the file: {error.strerror}") from None
    return reader(data, path.stem)


class _PlainDumper(yaml.SafeDumper):
    """Writes a shared list out each time (no ``&id001`` anchors an author would not
    recognise)."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def definition_yaml(report: ImportReport) -> str:
    """The imported definition as YAML, the notes first as comments, so the file says
    what to check by hand.

    >>> note = ImportNote("QID7", "heat map", "left out")
    >>> print(definition_yaml(ImportReport({"slug": "s"}, "Qualtrics", [note])))
    # Imported from Qualtrics by cxlab survey import. Check by hand:
    #   QID7: heat map: left out
    slug: s
    <BLANKLINE>
    """
    header = [f"# Imported from {report.source} by cxlab survey import."]
    if report.notes:
        header[0] += " Check by hand:"
        header += [f"#   {note}" for note in report.notes]
    body = yaml.dump(report.definition, Dumper=_PlainDumper, allow_unicode=True,
                     sort_keys=False, width=100)
    return "\n".join(header) + "\n" + body
