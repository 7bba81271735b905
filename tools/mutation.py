"""A small mutation tester: does the suite notice when the code is subtly wrong?

    .venv/bin/python tools/mutation.py [MODULE ...] [--jobs 2] [--list-survivors]

For each module (default: the four below), every mutant — one operator, comparison, boolean,
constant or negation changed, one at a time — is written into a copy of the committed
repository (HEAD) and the tests that reach that module run against it. A mutant the tests fail on is killed; one
they pass is a survivor: a change a user could feel that no test notices. Prints the score per
module (goal: at least 85 % killed) and, with --list-survivors, each survivor's line.

It mutates decorated functions and module-level tables too (where mutmut 3 skips them).
Equivalent mutants (a change that changes nothing) count as survivors; the list says which.
"""
from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "app/scoring/__init__.py": ["tests/unit/test_scoring.py", "tests/unit/test_bounds.py", "tests/unit/test_state.py"],
    "app/xlsform/values.py": ["tests/unit/test_values.py", "tests/unit/test_bounds.py"],
    "app/xlsform/expressions.py": ["tests/unit/test_expressions.py", "tests/unit/test_expression_limits.py",
                                   "tests/unit/test_bounds.py"],
    "app/services/scope.py": ["tests/web/test_scope_exact.py", "tests/web/test_scoping.py", "tests/web/test_lists.py",
                              "tests/web/test_form.py"],
}
SWAPS = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
    ast.Mod: ast.Mult, ast.Pow: ast.Mult,
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.And: ast.Or, ast.Or: ast.And, ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr,
}


@dataclass(frozen=True)
class Mutant:
    number: int
    line: int
    description: str
    source: str


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def _inert(tree: ast.AST) -> set[int]:
    """Nodes whose change changes nothing at run time: docstrings, annotations (strings under
    ``from __future__ import annotations``) and decorator arguments (``dataclass(frozen=True)``)."""
    roots = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            roots.extend(node.decorator_list)
            roots.extend(arg.annotation for arg in (*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs,
                                                    node.args.vararg, node.args.kwarg) if arg and arg.annotation)
            if node.returns:
                roots.append(node.returns)
        elif isinstance(node, ast.ClassDef):
            roots.extend(node.decorator_list)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    inert = _docstrings(tree)
    for root in roots:
        inert.update(id(child) for child in ast.walk(root))
    return inert


def _sites(tree: ast.AST) -> list[tuple[ast.AST, str]]:
    """Every place one mutation applies, as (node, what changes)."""
    skip = _inert(tree)
    sites = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, (ast.BinOp, ast.BoolOp)) and type(node.op) in SWAPS:
            sites.append((node, f"{type(node.op).__name__} → {SWAPS[type(node.op)].__name__}"))
        elif isinstance(node, ast.Compare):
            for position, op in enumerate(node.ops):
                if type(op) in SWAPS:
                    sites.append((node, f"{position}:{type(op).__name__} → {SWAPS[type(op)].__name__}"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            sites.append((node, "not removed"))
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                sites.append((node, f"{node.value} → {not node.value}"))
            elif isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
                sites.append((node, f"{node.value!r} → {node.value + 1!r}"))
        elif isinstance(node, ast.If):
            sites.append((node, "condition negated"))
    return sites


def mutants(path: Path) -> list[Mutant]:
    original = path.read_text()
    count = len(_sites(ast.parse(original)))
    found = []
    for number in range(count):
        tree = ast.parse(original)
        node, description = _sites(tree)[number]
        _apply(node, description)
        found.append(Mutant(number, getattr(node, "lineno", 0), description, ast.unparse(tree)))
    return found


def _apply(node: ast.AST, description: str) -> None:
    if isinstance(node, (ast.BinOp, ast.BoolOp)):
        node.op = SWAPS[type(node.op)]()
    elif isinstance(node, ast.Compare):
        position = int(description.split(":", 1)[0])
        node.ops[position] = SWAPS[type(node.ops[position])]()
    elif isinstance(node, ast.UnaryOp):   # not x → x
        node.op = _Identity()
    elif isinstance(node, ast.Constant):
        node.value = (not node.value) if isinstance(node.value, bool) else node.value + 1
    elif isinstance(node, ast.If):
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)


class _Identity(ast.UAdd):
    """The operator of ``not x`` mutated to ``x``: the unparser writes the operand alone."""


def _unparse_identity() -> None:
    original = ast._Unparser.visit_UnaryOp  # type: ignore[attr-defined]

    def visit(self, node):
        if isinstance(node.op, _Identity):
            self.traverse(node.operand)
            return
        original(self, node)
    ast._Unparser.visit_UnaryOp = visit  # type: ignore[attr-defined]


_unparse_identity()


def _copy_repository(into: Path) -> None:
    """The committed tree (HEAD), so that edits in progress neither count nor break the run."""
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def _run(workdir: Path, tests: list[str]) -> bool:
    """Whether the tests pass in ``workdir`` (the mutant survives)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DATABASE_URL", None)
    try:
        result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                 "-o", "addopts=", "-W", "error", *tests],
                                cwd=workdir, env=env, capture_output=True, timeout=600)
    except subprocess.TimeoutExpired:
        return False   # a mutant that hangs the tests is noticed
    return result.returncode == 0


def check(module: str, jobs: int, list_survivors: bool) -> tuple[int, int]:
    tests = TARGETS[module]
    workdirs = [Path(tempfile.mkdtemp(prefix="matrica-mutation-")) for _ in range(jobs)]
    for workdir in workdirs:
        _copy_repository(workdir)
    original = (workdirs[0] / module).read_text()
    found = mutants(workdirs[0] / module)
    free = list(workdirs)
    survivors = []

    def attempt(mutant: Mutant) -> tuple[Mutant, bool]:
        workdir = free.pop()
        try:
            (workdir / module).write_text(mutant.source)
            return mutant, _run(workdir, tests)
        finally:
            (workdir / module).write_text(original)
            free.append(workdir)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for mutant, survived in pool.map(attempt, found):
            if survived:
                survivors.append(mutant)
    for workdir in workdirs:
        shutil.rmtree(workdir, ignore_errors=True)
    killed = len(found) - len(survivors)
    score = killed / len(found) * 100 if found else 100.0
    print(f"{module:<32} {killed:4d} of {len(found):4d} mutants killed: {score:5.1f} %", flush=True)
    if list_survivors:
        lines = original.splitlines()
        for mutant in survivors:
            print(f"    line {mutant.line:4d}: {mutant.description:<28} {lines[mutant.line - 1].strip()[:90]}")
    return killed, len(found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("modules", nargs="*", default=list(TARGETS))
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2)))
    parser.add_argument("--list-survivors", action="store_true")
    args = parser.parse_args()
    for module in args.modules:
        check(module, args.jobs, args.list_survivors)


if __name__ == "__main__":
    main()
