"""The OpenAPI documents are written as YAML (`contract/v1/openapi.yaml`,
`contract/v2/openapi.yaml`: comments, anchors, long Markdown descriptions) and shipped as JSON
(`openapi.json` beside each), so that openscout needs no YAML parser at run time. The YAML is
the source; the JSON is made from it by `make openapi` (this module), and
tests/contract/test_openapi.py fails when the two disagree.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

import openscout.contract.v1
import openscout.contract.v2

#: The folder of each version's document.
FOLDERS = {
    "v1": Path(openscout.contract.v1.__file__).parent,
    "v2": Path(openscout.contract.v2.__file__).parent,
}
HERE = FOLDERS["v1"]
SOURCE = HERE / "openapi.yaml"
SHIPPED = HERE / "openapi.json"


def render(source: Path = SOURCE) -> str:
    """The JSON text of a YAML source, as it is committed."""
    document = yaml.safe_load(source.read_text("utf-8"))
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def main() -> None:
    for folder in FOLDERS.values():
        shipped = folder / "openapi.json"
        shipped.write_text(render(folder / "openapi.yaml"), "utf-8")
        print(f"wrote {shipped}")


if __name__ == "__main__":
    main()
