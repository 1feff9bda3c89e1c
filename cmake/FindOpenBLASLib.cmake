# Locates OpenBLAS (Debian: libopenblas-dev, pthread variant) and sets
# NEURONA_BLAS_LIBRARY and NEURONA_BLAS_INCLUDE_DIR.
find_library(NEURONA_BLAS_LIBRARY NAMES openblas
  PATHS /usr/lib/x86_64-linux-gnu/openblas-pthread /usr/lib/aarch64-linux-gnu/openblas-pthread
  REQUIRED)
find_path(NEURONA_BLAS_INCLUDE_DIR NAMES cblas.h
  PATHS /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/aarch64-linux-gnu/openblas-pthread
  /usr/include/openblas
  NO_DEFAULT_PATH)
if(NOT NEURONA_BLAS_INCLUDE_DIR)
  find_path(NEURONA_BLAS_INCLUDE_DIR NAMES cblas.h REQUIRED)
endif()
