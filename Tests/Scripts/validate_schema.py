#!/usr/bin/env python3
"""Validates YAML files against a JSON Schema with an independent validator (jsonschema, draft 2020-12).

Usage: validate_schema.py SCHEMA.json FILE.yaml...
Prints one line per problem, `FILE: PATH: message`, and `ok FILE` for each valid file; exits 1 when any file is
invalid, 2 when the schema itself is not a valid draft 2020-12 schema.
"""
import json
import sys

import jsonschema
import yaml


def main() -> int:
    schema_path, *files = sys.argv[1:]
    with open(schema_path, encoding="utf-8") as handle:
        schema = json.load(handle)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        print(f"{schema_path}: not a valid draft 2020-12 schema: {error.message}")
        return 2
    validator = jsonschema.Draft202012Validator(schema)
    failed = False
    for path in files:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        for error in errors:
            where = "/".join(str(part) for part in error.absolute_path) or "(top)"
            print(f"{path}: {where}: {error.message}")
        if errors:
            failed = True
        else:
            print(f"ok {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
