"""The compiled part of keyturn: the scanner's walk of parsed JSON (src/keyturn/detect/_walk.c).

Everything else is in pyproject.toml. The extension is optional: where it cannot be built (no
compiler), keyturn installs without it and the scanner walks in Python, with the same results,
unless KEYTURN_REQUIRE_WALK=1.
Its SOURCE_DIGEST lets the tests notice an editable install older than its source.
"""

import os
from hashlib import sha256
from pathlib import Path

from setuptools import Extension, setup

SOURCE = "src/keyturn/detect/_walk.c"
DIGEST = sha256((Path(__file__).parent / SOURCE).read_bytes()).hexdigest()

setup(
    ext_modules=[
        Extension(
            "keyturn.detect._walk",
            [SOURCE],
            define_macros=[("KEYTURN_WALK_DIGEST", f'"{DIGEST}"')],
            # KEYTURN_REQUIRE_WALK=1 (make dist, make setup-dev): a build without it fails
            # instead of making a wheel that lacks it.
            optional=os.environ.get("KEYTURN_REQUIRE_WALK") != "1",
        )
    ]
)
