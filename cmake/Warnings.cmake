# Warnings on for regal's own code; third-party headers come in as system
# includes (imported targets), so they stay quiet.
function(regal_enable_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
endfunction()
