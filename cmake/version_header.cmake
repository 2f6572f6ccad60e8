# Writes OUTPUT, a header defining JOURNEY_GIT_REVISION (`git describe --always --dirty` of
# SOURCE_DIR, or "unknown" outside a git checkout), only when its text changes: run at every
# build (common/CMakeLists.txt), so a binary names the commit it was built from, and a
# build without a new commit recompiles nothing.
execute_process(
  COMMAND git -C "${SOURCE_DIR}" describe --always --dirty --abbrev=12
  OUTPUT_VARIABLE revision
  OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET
  RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR revision STREQUAL "")
  set(revision "unknown")
endif()
set(text "#define JOURNEY_GIT_REVISION \"${revision}\"\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
