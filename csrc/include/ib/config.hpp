// Host/device markers shared by the C++ and CUDA builds.
#pragma once

#if defined(__CUDACC__)
#define IB_HD __host__ __device__ __forceinline__
#else
#define IB_HD inline
#endif

// Function multi-versioning for the CPU kernels: one binary runs the AVX-512, AVX2 or baseline
// x86-64 code, whichever the machine has, so a portable wheel is still vectorized (GCC 12+; the
// x86-64-v4 clone is 2x the AVX2 one on the Philox stream).
#if !defined(__CUDACC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && __GNUC__ >= 12
#define IB_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define IB_TARGET_CLONES
#endif
