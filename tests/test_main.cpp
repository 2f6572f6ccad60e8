// Entry point of the single-process test binaries.
#include <gtest/gtest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  // The mpirun these tests start runs on this node only: Open MPI needs no remote shell for
  // that, but aborts at start when ssh and rsh are missing unless told not to look for one.
  setenv("OMPI_MCA_plm_rsh_agent", "", /*overwrite=*/0);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
