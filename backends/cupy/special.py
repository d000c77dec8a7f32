"""The CuPy backend's own kernels for what no array library has: `erf_inv`.

f32 follows XLA's algorithm (Giles' two polynomials in w = -log(1 - x^2), evaluated with
fused multiply-adds), so `random.normal` on the GPU is within an ulp or two of the other
backends (CUDA's log1pf is not XLA:CPU's, so not bit for bit). f64 starts from the same
form in double precision and takes two Newton steps on erf(y) = x, which brings it to
double precision. erf_inv(+-1) = +-inf; |x| > 1 gives NaN.
"""

from __future__ import annotations

ERF_INV_SOURCE = """\
__device__ inline float jx_erf_inv_f32(float x) {
  float lg = log1pf(-x * x);
  float p;
  if (lg > -5.0f) {
    float w = -2.5f - lg;
    p = 2.810226362726098e-08f;
    p = fmaf(p, w, 3.432739390518691e-07f);
    p = fmaf(p, w, -3.523387704262859e-06f);
    p = fmaf(p, w, -4.391506536194356e-06f);
    p = fmaf(p, w, 0.00021858086984138936f);
    p = fmaf(p, w, -0.001253725029528141f);
    p = fmaf(p, w, -0.004177681636065245f);
    p = fmaf(p, w, 0.24664072692394257f);
    p = fmaf(p, w, 1.5014094114303589f);
  } else {
    float w = sqrtf(-lg) - 3.0f;
    p = -0.0002002142573473975f;
    p = fmaf(p, w, 0.0001009505576803349f);
    p = fmaf(p, w, 0.0013493432197719812f);
    p = fmaf(p, w, -0.003673428436741233f);
    p = fmaf(p, w, 0.005739507731050253f);
    p = fmaf(p, w, -0.007622461300343275f);
    p = fmaf(p, w, 0.00943887047469616f);
    p = fmaf(p, w, 1.0016740560531616f);
    p = fmaf(p, w, 2.832976818084717f);
  }
  if (fabsf(x) == 1.0f) return x * (1.0f / 0.0f);
  return x * p;
}

__device__ inline double jx_erf_inv_f64(double x) {
  if (fabs(x) == 1.0) return x * (1.0 / 0.0);
  if (!(fabs(x) < 1.0)) return (x - x) / (x - x);
  double y = (double)jx_erf_inv_f32((float)x);
  if (!isfinite(y)) {  // |x| so close to 1 that f32 rounds it there: start from the tail
    y = x > 0 ? 5.9 : -5.9;
  }
  for (int k = 0; k < 3; ++k) {  // Newton on erf(y) = x: quadratic from 1e-7
    double e = erf(y) - x;
    y -= e / (1.1283791670955126 * exp(-y * y));
  }
  return y;
}

extern "C" __global__ void jx_erf_inv_float(const float* __restrict__ in0,
                                            float* __restrict__ out0, long long n) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (long long)blockDim.x * gridDim.x)
    out0[i] = jx_erf_inv_f32(in0[i]);
}

extern "C" __global__ void jx_erf_inv_double(const double* __restrict__ in0,
                                             double* __restrict__ out0, long long n) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (long long)blockDim.x * gridDim.x)
    out0[i] = jx_erf_inv_f64(in0[i]);
}
"""

ERF_INV_KERNELS = {"float32": "jx_erf_inv_float", "float64": "jx_erf_inv_double"}
