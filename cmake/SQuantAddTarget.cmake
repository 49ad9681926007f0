# Helpers that give every squant target the same warning flags and link the
# shared libMLIR.so rather than the static component libraries.

# squant_target_options(<target>): -Werror and friends on a squant target.
function(squant_target_options target)
  target_compile_options(${target} PRIVATE ${SQUANT_WARNING_FLAGS})
endfunction()
