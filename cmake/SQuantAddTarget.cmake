# Helpers that give every squant target the same warning flags and link the
# shared libMLIR.so rather than the static component libraries.

# squant_target_options(<target>): -Werror and friends on a squant target.
function(squant_target_options target)
  target_compile_options(${target} PRIVATE ${SQUANT_WARNING_FLAGS})
endfunction()

# squant_nvvm_object(<object> <mlir> <chip> <comment>): an object file of
# host code and embedded GPU binary, from squant IR <mlir> lowered by
# squant-lower-to-nvvm for <chip>, translated to LLVM IR and compiled; for
# programs that run on a machine with only the CUDA driver (link
# squant_gpu).
function(squant_nvvm_object object mlir chip comment)
  get_filename_component(stem ${object} NAME_WE)
  get_filename_component(dir ${object} DIRECTORY)
  add_custom_command(OUTPUT ${object}
    COMMAND squant-opt ${mlir} --squant-lower-to-nvvm=chip=${chip}
      -o ${dir}/${stem}.llvm.mlir
    COMMAND ${LLVM_TOOLS_BINARY_DIR}/mlir-translate --mlir-to-llvmir
      ${dir}/${stem}.llvm.mlir -o ${dir}/${stem}.ll
    COMMAND ${CMAKE_C_COMPILER} -c -O2 -fPIC -Wno-override-module
      ${dir}/${stem}.ll -o ${object}
    DEPENDS squant-opt ${mlir}
    COMMENT "squant-lower-to-nvvm: ${comment}"
    VERBATIM)
endfunction()
