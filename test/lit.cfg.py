# -*- Python -*-
# lit configuration for squant: the IR tests (FileCheck) under test/ and the
# unit-test binaries of the build (GoogleTest) under test/Unit.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "squant"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.squant_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
llvm_config.use_default_substitutions()

# Tools come from the build (squant's) and from /usr/lib/llvm-22/bin
# (FileCheck, not, count, mlir-opt), never from PATH guesses.
tool_dirs = [config.squant_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["squant-opt"], tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
