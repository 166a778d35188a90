/* One pass over a padded frame matrix (items x frames x dim) for one user vector: per item,
   the best frame (Eq. 1) and the best window of consecutive frames (Eq. 2). Two storages:
   fp16 (generec_scan_f16) and int8 with one float32 scale per frame (generec_scan_i8, a
   frame's score is scale[f] * sum_d q[f,d] * user[d]). Both share the loop over items and the
   selection; only the dot products differ, stamped out once per element type below.
   Loaded with ctypes (the call releases the GIL, so Python threads split the items). The
   module init exists only so that setuptools can build this file as an extension. */
#include <Python.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <immintrin.h>

#ifndef PREFETCH_ITEMS
#define PREFETCH_ITEMS 4
#endif
#define MAX_FRAMES 4096

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) { bits = sign; }
        else {                                  /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) { man <<= 1; exp--; }
            bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) { bits = sign | 0x7f800000u | (man << 13); }
    else { bits = sign | ((exp + 127 - 15) << 23) | (man << 13); }
    float f; memcpy(&f, &bits, 4); return f;
}

/* element -> float: one scalar, 8 lanes (AVX2), 16 lanes (AVX-512) */
static inline float scalar_f16(uint16_t h) { return half_to_float(h); }
static inline float scalar_i8(int8_t q) { return (float)q; }

__attribute__((target("avx2,f16c")))
static inline __m256 load8_f16(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}
__attribute__((target("avx2")))
static inline __m256 load8_i8(const int8_t *p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}
__attribute__((target("avx512f")))
static inline __m512 load16_f16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}
__attribute__((target("avx512f")))
static inline __m512 load16_i8(const int8_t *p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
}

__attribute__((target("avx2")))
static inline float hsum256(__m256 a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_hadd_ps(s, s); s = _mm_hadd_ps(s, s);
    return _mm_cvtss_f32(s);
}

/* scores of n consecutive rows (frames) of `dim` elements; times scales[r] where given */
typedef void (*dots_fn)(const void *rows, const float *scales, int64_t n, int dim,
                        const float *user, float *out);

#define SCALED(acc, r) (scales ? (acc) * scales[(r)] : (acc))

#define DEFINE_DOTS(S, T)                                                                      \
static void dots_plain_##S(const void *rows_, const float *scales, int64_t n, int dim,        \
                           const float *user, float *out) {                                   \
    const T *rows = (const T *)rows_;                                                         \
    for (int64_t r = 0; r < n; r++) {                                                         \
        const T *row = rows + r * dim;                                                        \
        float acc = 0.f;                                                                      \
        for (int d = 0; d < dim; d++) acc += scalar_##S(row[d]) * user[d];                    \
        out[r] = SCALED(acc, r);                                                              \
    }                                                                                         \
}                                                                                             \
__attribute__((target("avx2,fma,f16c")))                                                      \
static void dots_avx2_##S(const void *rows_, const float *scales, int64_t n, int dim,         \
                          const float *user, float *out) {                                    \
    const T *rows = (const T *)rows_;                                                         \
    for (int64_t r = 0; r < n; r++) {                                                         \
        const T *row = rows + r * dim;                                                        \
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();                            \
        int d = 0;                                                                            \
        for (; d + 16 <= dim; d += 16) {                                                      \
            a0 = _mm256_fmadd_ps(load8_##S(row + d), _mm256_loadu_ps(user + d), a0);          \
            a1 = _mm256_fmadd_ps(load8_##S(row + d + 8), _mm256_loadu_ps(user + d + 8), a1);  \
        }                                                                                     \
        for (; d + 8 <= dim; d += 8)                                                          \
            a0 = _mm256_fmadd_ps(load8_##S(row + d), _mm256_loadu_ps(user + d), a0);          \
        float acc = hsum256(_mm256_add_ps(a0, a1));                                           \
        for (; d < dim; d++) acc += scalar_##S(row[d]) * user[d];                             \
        out[r] = SCALED(acc, r);                                                              \
    }                                                                                         \
}                                                                                             \
__attribute__((target("avx512f,avx2,fma,f16c")))                                              \
static void dots_avx512_##S(const void *rows_, const float *scales, int64_t n, int dim,       \
                            const float *user, float *out) {                                  \
    const T *rows = (const T *)rows_;                                                         \
    int64_t r = 0;                                                                            \
    if (dim % 32 == 0) {                                                                      \
        for (; r + 2 <= n; r += 2) {       /* two rows share each load of the user vector */  \
            const T *p = rows + r * dim, *q = p + dim;                                        \
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();                        \
            __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();                        \
            for (int d = 0; d < dim; d += 32) {                                               \
                __m512 u0 = _mm512_loadu_ps(user + d), u1 = _mm512_loadu_ps(user + d + 16);   \
                a0 = _mm512_fmadd_ps(load16_##S(p + d), u0, a0);                              \
                a1 = _mm512_fmadd_ps(load16_##S(p + d + 16), u1, a1);                         \
                b0 = _mm512_fmadd_ps(load16_##S(q + d), u0, b0);                              \
                b1 = _mm512_fmadd_ps(load16_##S(q + d + 16), u1, b1);                         \
            }                                                                                 \
            float x = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));                            \
            float y = _mm512_reduce_add_ps(_mm512_add_ps(b0, b1));                            \
            out[r] = SCALED(x, r); out[r + 1] = SCALED(y, r + 1);                             \
        }                                                                                     \
    }                                                                                         \
    if (r < n) dots_avx2_##S(rows + r * dim, scales ? scales + r : NULL, n - r, dim, user,    \
                             out + r);                                                        \
}                                                                                             \
static const dots_fn DOTS_##S[3] = {dots_plain_##S, dots_avx2_##S, dots_avx512_##S};

DEFINE_DOTS(f16, uint16_t)
DEFINE_DOTS(i8, int8_t)

/* 0: plain C, 1: AVX2 + FMA + F16C, 2: AVX-512F as well */
static int simd_level(void) {
    int fast = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("f16c");
    return fast && __builtin_cpu_supports("avx512f") ? 2 : fast;
}

/* Eq. 1 and Eq. 2 of one item from its n frame scores: the best frame and the best window of
   clip_len frames starting every `stride` frames (and the last full window); first maximum on
   ties, as numpy's argmax. */
static void select_item(const float *scores, int n, int32_t clip_len, int32_t stride,
                        int32_t *best_frame, float *frame_score, int32_t *best_start,
                        float *clip_score) {
    float cumulative[MAX_FRAMES + 1];
    int best = 0; float top = -INFINITY;
    cumulative[0] = 0.f;
    for (int k = 0; k < n; k++) {
        if (scores[k] > top) { top = scores[k]; best = k; }
        cumulative[k + 1] = cumulative[k] + scores[k];
    }
    *best_frame = best; *frame_score = top;
    int length = clip_len < n ? clip_len : n, last = n - length, start = 0;
    double window_top = -INFINITY;
    for (int s = 0; s <= last; s++) {
        if (s % stride != 0 && s != last) continue;
        double mean = ((double)cumulative[s + length] - (double)cumulative[s]) /
                      (double)(length > 0 ? length : 1);
        if (mean > window_top) { window_top = mean; start = s; }
    }
    *best_start = start; *clip_score = (float)window_top;
}

/* The loop over items both storages share: `element` bytes per value, `scales` (one per
   frame, items x n_frames) or NULL. Returns 0, or -1 on bad arguments. */
static int scan_items(const char *frames, int element, const float *scales, dots_fn dots,
                      int64_t n_items, int32_t n_frames, int32_t dim, const int64_t *counts,
                      const float *user, int32_t clip_len, int32_t stride, int32_t *best_frame,
                      float *frame_score, int32_t *best_start, float *clip_score) {
    if (n_frames < 1 || n_frames > MAX_FRAMES || dim < 1 || clip_len < 1 || stride < 1)
        return -1;
    float scores[MAX_FRAMES];
    int64_t item_bytes = (int64_t)n_frames * dim * element;
    for (int64_t i = 0; i < n_items; i++) {
        int n = (int)(counts[i] < n_frames ? counts[i] : n_frames);
        if (n < 0) n = 0;
        const char *item = frames + i * item_bytes;
        if (i + PREFETCH_ITEMS < n_items) {      /* the hardware prefetcher alone lags */
            const char *ahead = item + PREFETCH_ITEMS * item_bytes;
            for (int64_t b = 0; b < item_bytes; b += 64) __builtin_prefetch(ahead + b);
        }
        dots(item, scales ? scales + i * n_frames : NULL, n, dim, user, scores);
        select_item(scores, n, clip_len, stride, best_frame + i, frame_score + i,
                    best_start + i, clip_score + i);
    }
    return 0;
}

/* Outputs per item: best frame and its score, best window start and its mean score. */
int generec_scan_f16(const uint16_t *frames, int64_t n_items, int32_t n_frames, int32_t dim,
                     const int64_t *counts, const float *user, int32_t clip_len, int32_t stride,
                     int32_t *best_frame, float *frame_score, int32_t *best_start,
                     float *clip_score) {
    return scan_items((const char *)frames, 2, NULL, DOTS_f16[simd_level()], n_items, n_frames,
                      dim, counts, user, clip_len, stride, best_frame, frame_score, best_start,
                      clip_score);
}

/* The same for int8 frames with one float32 scale per frame (scales: items x n_frames). */
int generec_scan_i8(const int8_t *frames, const float *scales, int64_t n_items,
                    int32_t n_frames, int32_t dim, const int64_t *counts, const float *user,
                    int32_t clip_len, int32_t stride, int32_t *best_frame, float *frame_score,
                    int32_t *best_start, float *clip_score) {
    if (scales == NULL) return -1;
    return scan_items((const char *)frames, 1, scales, DOTS_i8[simd_level()], n_items, n_frames,
                      dim, counts, user, clip_len, stride, best_frame, frame_score, best_start,
                      clip_score);
}

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scan", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__scan(void) { return PyModule_Create(&module); }
