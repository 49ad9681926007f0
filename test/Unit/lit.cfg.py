# -*- Python -*-
# Runs every GoogleTest binary under <build>/unittests as lit tests, so the
# one `check-squant` target runs the unit tests with the IR tests.

import os

import lit.formats

config.name = "squant-unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.squant_obj_root, "unittests")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
