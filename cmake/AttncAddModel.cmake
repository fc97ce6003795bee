# attnc_add_model(NAME SOURCE [FLAGS flag...]): compiles the .attn file
# SOURCE with attnc into lib<NAME>.so and <NAME>.h (the generated header) in
# the current binary directory, and defines the imported shared library
# target NAME that programs link against (its include directories hold
# <NAME>.h and attnc/attnc.h). One definition, used by the build tree
# (examples/, bench/) and by the installed package (attncConfig.cmake).
#
# Set before including this file:
#   ATTNC_COMPILER     the attnc executable: a target name or a path
#   ATTNC_INCLUDE_DIR  the directory that holds attnc/attnc.h
#   ATTNC_MODEL_DEPENDS  targets the compilation depends on (may be empty)

function(attnc_add_model name source)
  cmake_parse_arguments(ARG "" "" "FLAGS" ${ARGN})
  get_filename_component(source "${source}" ABSOLUTE)
  set(lib ${CMAKE_CURRENT_BINARY_DIR}/lib${name}.so)
  set(header ${CMAKE_CURRENT_BINARY_DIR}/${name}.h)
  add_custom_command(
    OUTPUT ${lib} ${header}
    COMMAND ${ATTNC_COMPILER} ${source} ${ARG_FLAGS} -o ${lib}
    COMMAND ${ATTNC_COMPILER} ${source} --emit=header -o ${header}
    DEPENDS ${ATTNC_MODEL_DEPENDS} ${source}
    COMMENT "Compiling the attention model ${name}"
    VERBATIM)
  add_custom_target(${name}_model ALL DEPENDS ${lib} ${header})
  add_library(${name} SHARED IMPORTED GLOBAL)
  set_target_properties(${name} PROPERTIES
    IMPORTED_LOCATION ${lib}
    IMPORTED_NO_SONAME ON
    INTERFACE_INCLUDE_DIRECTORIES
      "${CMAKE_CURRENT_BINARY_DIR};${ATTNC_INCLUDE_DIR}")
  add_dependencies(${name} ${name}_model)
endfunction()
