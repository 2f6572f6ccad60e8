# Boost.Program_options as the target Boost::program_options.
#
# A machine can hold two Boost installations whose CMake packages disagree: Ubuntu 24.04's
# system Boost 1.83 ships a BoostConfig without program_options, and it shadows the Debian
# 1.74 package that has it, so `find_package(Boost COMPONENTS program_options)` fails although
# the library is installed. Ask the CMake packages first, then look for the library and its
# header directly.
find_package(Boost 1.74 QUIET COMPONENTS program_options)
if(NOT TARGET Boost::program_options)
  find_path(JOURNEY_PROGRAM_OPTIONS_INCLUDE_DIR boost/program_options.hpp)
  find_library(JOURNEY_PROGRAM_OPTIONS_LIBRARY NAMES boost_program_options
               boost_program_options.so.1.74.0)
  if(NOT JOURNEY_PROGRAM_OPTIONS_INCLUDE_DIR OR NOT JOURNEY_PROGRAM_OPTIONS_LIBRARY)
    message(FATAL_ERROR "Boost.Program_options was not found (neither a Boost CMake package "
                        "with program_options nor libboost_program_options and "
                        "boost/program_options.hpp): install libboost-program-options-dev")
  endif()
  add_library(Boost::program_options UNKNOWN IMPORTED)
  set_target_properties(Boost::program_options PROPERTIES
    IMPORTED_LOCATION "${JOURNEY_PROGRAM_OPTIONS_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${JOURNEY_PROGRAM_OPTIONS_INCLUDE_DIR}")
  message(STATUS "Boost.Program_options: ${JOURNEY_PROGRAM_OPTIONS_LIBRARY} (found directly)")
endif()
