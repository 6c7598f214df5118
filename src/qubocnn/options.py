"""Command-line options and YAML config values generated from dataclass fields: one source for every
default, type and help text.

A field declares itself an option with `option(default, help)`; `flag` renames its option (the
field `num_reads` is `--reads`) and `parse` converts a value that is not of the field's type (the
block size 'clique'). `add_options` adds a dataclass's fields to a parser, `check_value` validates a
value of any origin (command line, YAML file, a result's recorded spec) by the field's type, and
`instance` builds the dataclass from option values. A field's help never states its default: the
generated option appends it.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Iterable

import yaml

NO_DEFAULT = dataclasses.MISSING
TYPE_NAMES = {bool: "a boolean (true or false)", int: "an integer", float: "a number", str: "a string",
              dict: "a mapping"}


def option(default=NO_DEFAULT, help: str = "", *, default_factory=NO_DEFAULT, flag: str | None = None,
           parse: Callable | None = None):
    """A dataclass field that is also a command-line option (see the module docstring)."""
    metadata = {"help": help, "flag": flag, "parse": parse}
    if default_factory is not NO_DEFAULT:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def option_fields(cls, only: Iterable[str] | None = None) -> list[dataclasses.Field]:
    """The fields of `cls` that are options (those with a help text), in declaration order."""
    chosen = [f for f in dataclasses.fields(cls) if f.metadata.get("help")]
    return chosen if only is None else [f for f in chosen if f.name in set(only)]


def dest(f: dataclasses.Field) -> str:
    """The option's name in parsed options and YAML files: its flag with underscores."""
    return (f.metadata.get("flag") or f.name).replace("-", "_")


def field_type(cls, f: dataclasses.Field) -> tuple[type, bool]:
    """The field's base type and whether it may be None (`int | None` -> (int, True))."""
    hint = typing.get_type_hints(cls)[f.name]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        return members[0], len(members) < len(typing.get_args(hint))
    return typing.get_origin(hint) or hint, False


def default_of(f: dataclasses.Field):
    return f.default_factory() if f.default_factory is not NO_DEFAULT else f.default


def help_text(f: dataclasses.Field) -> str:
    """The field's help with its default appended (None and empty defaults are explained by the help)."""
    default = default_of(f)
    if default is None or default == {}:
        return f.metadata["help"]
    shown = ("on" if default else "off") if isinstance(default, bool) else default
    return f"{f.metadata['help']} (default {shown})"


def check_value(cls, f: dataclasses.Field, value, origin: str = "option"):
    """`value` as the field's type, or a one-line ValueError: booleans must be booleans, integers
    integers (not 2.5, not true), floats numbers; `parse` fields take what their parser takes."""
    kind, optional = field_type(cls, f)
    name = dest(f)
    if value is None and (optional or default_of(f) is None):
        return None
    if f.metadata.get("parse"):
        return f.metadata["parse"](value)
    fits = {bool: lambda v: isinstance(v, bool), int: lambda v: isinstance(v, int) and not isinstance(v, bool),
            float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            str: lambda v: isinstance(v, str), dict: lambda v: isinstance(v, dict)}[kind]
    if not fits(value):
        raise ValueError(f"{origin} {name} takes {TYPE_NAMES[kind]}{' or null' if optional else ''}, got {value!r}")
    return float(value) if kind is float else value


def key_values(items) -> dict:
    """--solver-option KEY=VALUE items (values read as YAML: 20 is a number, true a boolean)."""
    parsed = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep:
            raise ValueError(f"--{key.replace('_', '-')} takes KEY=VALUE, got {item!r}")
        parsed[key] = yaml.safe_load(value)
    return parsed


def add_options(parser, cls, only: Iterable[str] | None = None) -> None:
    """Add the option fields of `cls` to `parser` (an ArgumentParser or argument group)."""
    for f in option_fields(cls, only):
        kind, _ = field_type(cls, f)
        flag = "--" + (f.metadata.get("flag") or f.name).replace("_", "-")
        if kind is bool:
            parser.add_argument(flag, dest=dest(f), action=argparse.BooleanOptionalAction, help=help_text(f))
        elif kind is dict:
            parser.add_argument(flag, dest=dest(f), action="append", metavar="KEY=VALUE",
                                help=help_text(f) + " (repeatable)")
        else:
            # a `parse` field takes the text as given: its parser's one-line error comes later, from check_value
            parser.add_argument(flag, dest=dest(f), type=str if f.metadata.get("parse") else kind, help=help_text(f))


def instance(cls, values: dict, origin: str = "option", key: Callable = dest, **given):
    """`cls` built from option values (keyed by `key(field)`, the option names by default; missing
    ones take the field's default), each checked by `check_value`; `given` are fields set directly."""
    kwargs = dict(given)
    for f in option_fields(cls):
        if key(f) in values and f.name not in given:
            value = values[key(f)]
            if field_type(cls, f)[0] is dict and isinstance(value, list):  # --solver-option items
                value = key_values(value)
            kwargs[f.name] = check_value(cls, f, value, origin)
    return cls(**kwargs)


def values_of(obj) -> dict:
    """The option values of a dataclass instance, keyed by `dest` (the inverse of `instance`)."""
    return {dest(f): getattr(obj, f.name) for f in option_fields(type(obj))}


def read_config(path: str, command: str, valid: Iterable[str], groups) -> dict:
    """A YAML file of `command`'s option values: unknown keys refused, the values of the fields in
    `groups` ((class, fields or None: all), ...) checked by the field's type."""
    with open(path) as stream:
        from_file = yaml.safe_load(stream) or {}
    if not isinstance(from_file, dict):
        raise ValueError(f"{path} is not a mapping of option names to values")
    unknown = sorted(set(from_file) - set(valid))
    if unknown:
        raise ValueError(f"unknown option(s) in {path}: {', '.join(unknown)} "
                         f"(valid for {command}: {', '.join(sorted(valid))})")
    for cls, only in groups:
        for f in option_fields(cls, only):
            if dest(f) in from_file:
                from_file[dest(f)] = check_value(cls, f, from_file[dest(f)], path + ":")
    return from_file
