# embed_files(<target> <namespace> <file>...): compiles files (SQL migrations, the
# OpenAPI document, the web pages) into the binary as string_views, so the server never depends on
# its working directory. Regenerated whenever a file changes.
function(embed_files target namespace)
  string(REPLACE "::" "_" suffix ${namespace}) # a target may embed several sets
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_${suffix}_embedded.cpp)
  # A ';' would split the shell command: pass the list with '|' between files.
  string(REPLACE ";" "|" files "${ARGN}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNAMESPACE=${namespace} "-DFILES=${files}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_generate.cmake
    DEPENDS ${ARGN} ${CMAKE_SOURCE_DIR}/cmake/embed_generate.cmake
    COMMENT "Embedding files into ${target}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
  # The OpenAPI document is longer than the 64 KiB of string literal the standard promises;
  # GCC and clang take any length, but clang's -Wpedantic says so.
  set_source_files_properties(${out} PROPERTIES COMPILE_OPTIONS -Wno-overlength-strings)
endfunction()
