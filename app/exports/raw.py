"""Raw data: one row per response, one column per question; one sheet per repeat, its rows
linked to their parent row by ``_index`` / ``_parent_index``. Rows are written as they are
read, so memory stays flat however many responses there are.

Answers are shown as labels in one of the questionnaire's languages, or as codes. A
select-multiple question is one column (the chosen items), one 0/1 column per choice, or both
(KoboToolbox's default). Nothing here reads the database or the request: the caller passes
the submissions (in any order) and the words of the reader's language.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.xlsform.compiled import CompiledForm, Node
from app.xlsform.state import parse_path

MULTIPLE_MODES = ("both", "single", "split")
NUMBER_TYPES = {"integer", "decimal", "range"}


@dataclass
class Submission:
    """One response as the raw export sees it; ``answers`` by stored path."""
    id: int
    institution: str
    country: str
    status: str                  # in the reader's words
    submitted: datetime | None
    updated: datetime | None
    answers: dict[str, str] = field(default_factory=dict)


@dataclass
class Options:
    language: str | None = None   # a language of the questionnaire for labels; None: codes
    multiple: str = "both"        # select-multiple: "single" column, "split" 0/1 columns, or "both"


@dataclass
class Words:
    """The reader's words for the fixed columns and the main sheet's name."""
    sheet: str
    institution: str
    country: str
    status: str
    submitted: str
    updated: str
    nothing: str = ""   # written under the headers when there is no response to export


@dataclass
class _Column:
    node: Node
    choice: str | None = None     # a 0/1 column of this choice of a select-multiple


class RawExport:
    """Writes submissions into ``book`` (an ``app.exports.writer`` book): ``add`` each, then
    ``finish``. ``rows`` counts the main sheet's rows."""

    def __init__(self, form: CompiledForm, book, options: Options, words: Words):
        self.form, self.book, self.options, self.words = form, book, options, words
        self.rows = 0
        self._main = book.sheet(words.sheet)
        self._main_columns = self._columns(None)
        self._main.header(["_index", "_id", words.institution, words.country, words.status, words.submitted,
                           words.updated] + self._headers(self._main_columns),
                          [8, 8, 30, 10, 14, 18, 18] + [self._width(c) for c in self._main_columns])
        self._repeats: dict[str, tuple[Any, list[_Column]]] = {}
        self._counts: dict[str, int] = {}
        for repeat in (node for node in form.nodes if node.kind == "repeat"):
            columns = self._columns(repeat)
            sheet = book.sheet(self._label(repeat))
            sheet.header(["_index", "_parent_index", "_parent_table", "_submission_id", words.status]
                         + self._headers(columns), [8, 8, 20, 8, 14] + [self._width(c) for c in columns])
            self._repeats[repeat.name] = (sheet, columns)
            self._counts[repeat.name] = 0

    # -- columns --------------------------------------------------------------------

    def _columns(self, repeat: Node | None) -> list[_Column]:
        columns = []
        for node in self.form.nodes:
            if not (node.kind == "question" and node.is_input and node.repeat is repeat):
                continue
            multiple = node.type == "select_multiple"
            if not multiple or self.options.multiple != "split":
                columns.append(_Column(node))
            if multiple and self.options.multiple != "single":
                columns += [_Column(node, choice.name) for choice in self.form.choices.get(node.list_name, [])]
        return columns

    def _label(self, node: Node) -> str:
        if self.options.language is None:
            return node.name
        return self.form.text(node.label, self.options.language)[0] or node.name

    def _headers(self, columns: list[_Column]) -> list[str]:
        headers = []
        for column in columns:
            if column.choice is None:
                headers.append(self._label(column.node))
            elif self.options.language is None:
                headers.append(f"{column.node.name}/{column.choice}")
            else:
                headers.append(f"{self._label(column.node)}/"
                               f"{self.form.choice_label(column.node.list_name, column.choice, self.options.language)}")
        return headers

    @staticmethod
    def _width(column: _Column) -> float:
        if column.choice is not None or column.node.type in NUMBER_TYPES:
            return 12
        return 30 if column.node.type in ("text", "select_multiple") else 18

    # -- values ---------------------------------------------------------------------

    def _value(self, column: _Column, raw: str | None) -> Any:
        node = column.node
        if column.choice is not None:
            return None if raw is None else int(column.choice in raw.split())
        if raw is None or raw == "":
            return None
        if node.type in NUMBER_TYPES:
            try:
                number = float(raw)
            except ValueError:
                return raw
            return int(number) if number.is_integer() and abs(number) < 1e15 else number
        if node.type == "date":
            try:
                return date.fromisoformat(raw)
            except ValueError:
                return raw
        if node.list_name and self.options.language is not None:
            labels = [self.form.choice_label(node.list_name, item, self.options.language) for item in raw.split()]
            return "; ".join(labels) if node.type == "select_multiple" else labels[0] if labels else raw
        return raw

    def _cells(self, columns: list[_Column], answers: dict[str, str], prefix: str) -> list[Any]:
        return [self._value(column, answers.get(prefix + column.node.name)) for column in columns]

    # -- rows -----------------------------------------------------------------------

    def add(self, submission: Submission) -> None:
        self.rows += 1
        self._main.write([self.rows, submission.id, submission.institution, submission.country, submission.status,
                          submission.submitted, submission.updated]
                         + self._cells(self._main_columns, submission.answers, ""))
        instances: dict[tuple[str, tuple[int, ...]], Node] = {}
        for path in submission.answers:
            found = parse_path(self.form, path) if "/" in path else None   # only a repeat's answers have a "/"
            if found is None:
                continue
            node, index = found
            for depth, repeat in enumerate(node.chain):   # an entry, and the entries it is inside
                instances[(repeat.name, index[:depth + 1])] = repeat
        numbers: dict[tuple[str, tuple[int, ...]], int] = {}
        for (name, index), repeat in sorted(instances.items(), key=lambda item: (len(item[0][1]), item[0][1])):
            sheet, columns = self._repeats[name]
            self._counts[name] += 1
            numbers[(name, index)] = self._counts[name]
            outer = repeat.chain[-1] if repeat.chain else None   # the repeat this one is inside
            parent = numbers[(outer.name, index[:-1])] if outer is not None else self.rows
            prefix = "".join(f"{r.name}[{i}]/" for r, i in zip((*repeat.chain, repeat), index))
            sheet.write([self._counts[name], parent, self._repeats[outer.name][0].name if outer else self._main.name,
                         submission.id, submission.status] + self._cells(columns, submission.answers, prefix))

    def finish(self) -> None:
        if self.rows == 0 and self.words.nothing:
            self._main.write([self.words.nothing])
        self._main.finish()
        for sheet, _columns in self._repeats.values():
            sheet.finish()
        self.book.close()


def write(form: CompiledForm, book, options: Options, words: Words, submissions: Iterable[Submission],
          progress: Callable[[int], None] | None = None) -> int:
    """Write every submission; ``progress(rows)`` is called as rows are written. The rows written."""
    try:
        export = RawExport(form, book, options, words)
        for submission in submissions:
            export.add(submission)
            if progress is not None:
                progress(export.rows)
        export.finish()
    except BaseException:
        book.abort()   # nothing half-written is left behind
        raise
    return export.rows
