"""The v1 OpenAPI document is written as YAML (`contract/v1/openapi.yaml`: comments, anchors,
long Markdown descriptions) and shipped as JSON (`contract/v1/openapi.json`), so that openscout
needs no YAML parser at run time. The YAML is the source; the JSON is made from it by
`make openapi` (this module), and tests/contract/test_openapi.py fails when the two disagree.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

import openscout.contract.v1

HERE = Path(openscout.contract.v1.__file__).parent
SOURCE = HERE / "openapi.yaml"
SHIPPED = HERE / "openapi.json"


def render() -> str:
    """The JSON text of the YAML source, as it is committed."""
    document = yaml.safe_load(SOURCE.read_text("utf-8"))
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def main() -> None:
    SHIPPED.write_text(render(), "utf-8")
    print(f"wrote {SHIPPED}")


if __name__ == "__main__":
    main()
