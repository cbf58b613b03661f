#pragma once
// NB_HD marks the pure physics functions shared by the CPU loop and the CUDA
// kernel: __host__ __device__ under nvcc, nothing otherwise.
#if defined(__CUDACC__)
#define NB_HD __host__ __device__
#else
#define NB_HD
#endif
