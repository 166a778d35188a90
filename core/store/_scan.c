/* One pass over a padded fp16 frame matrix (items x frames x dim) for one user vector:
   per item, the best frame (Eq. 1) and the best window of consecutive frames (Eq. 2).
   Loaded with ctypes (the call releases the GIL, so Python threads split the items). The
   module init exists only so that setuptools can build this file as an extension. */
#include <Python.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <immintrin.h>

#define PREFETCH_ITEMS 4

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

static void dots_plain(const uint16_t *rows, int64_t n, int dim, const float *user, float *out) {
    for (int64_t r = 0; r < n; r++) {
        const uint16_t *row = rows + r * dim;
        float acc = 0.f;
        for (int d = 0; d < dim; d++) acc += half_to_float(row[d]) * user[d];
        out[r] = acc;
    }
}

__attribute__((target("avx2,fma,f16c")))
static void dots_avx2(const uint16_t *rows, int64_t n, int dim, const float *user, float *out) {
    for (int64_t r = 0; r < n; r++) {
        const uint16_t *row = rows + r * dim;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        int d = 0;
        for (; d + 16 <= dim; d += 16) {
            __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + d)));
            __m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + d + 8)));
            a0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(user + d), a0);
            a1 = _mm256_fmadd_ps(x1, _mm256_loadu_ps(user + d + 8), a1);
        }
        for (; d + 8 <= dim; d += 8) {
            __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + d)));
            a0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(user + d), a0);
        }
        a0 = _mm256_add_ps(a0, a1);
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1));
        s = _mm_hadd_ps(s, s); s = _mm_hadd_ps(s, s);
        float acc = _mm_cvtss_f32(s);
        for (; d < dim; d++) acc += _cvtsh_ss(row[d]) * user[d];
        out[r] = acc;
    }
}


__attribute__((target("avx512f,avx2,fma,f16c")))
static void dots_avx512(const uint16_t *rows, int64_t n, int dim, const float *user, float *out) {
    int64_t r = 0;
    if (dim % 32 == 0) {
        for (; r + 2 <= n; r += 2) {
            const uint16_t *p = rows + r * dim, *q = p + dim;
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
            for (int d = 0; d < dim; d += 32) {
                __m512 u0 = _mm512_loadu_ps(user + d), u1 = _mm512_loadu_ps(user + d + 16);
                a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p + d))), u0, a0);
                a1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p + d + 16))), u1, a1);
                b0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(q + d))), u0, b0);
                b1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(q + d + 16))), u1, b1);
            }
            out[r] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
            out[r + 1] = _mm512_reduce_add_ps(_mm512_add_ps(b0, b1));
        }
    }
    if (r < n) dots_avx2(rows + r * dim, n - r, dim, user, out + r);
}

/* Returns 0, or -1 on bad arguments. Outputs per item: best frame and its score, best
   window start and its mean score (first maximum on ties, as numpy's argmax). */
int generec_scan_f16(const uint16_t *frames, int64_t n_items, int32_t n_frames, int32_t dim,
                     const int64_t *counts, const float *user, int32_t clip_len, int32_t stride,
                     int32_t *best_frame, float *frame_score, int32_t *best_start,
                     float *clip_score) {
    if (n_frames < 1 || n_frames > 4096 || dim < 1 || clip_len < 1 || stride < 1) return -1;
    int fast = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("f16c");
    if (fast && __builtin_cpu_supports("avx512f")) fast = 2;
    float scores[4096];
    float cumulative[4097];
    for (int64_t i = 0; i < n_items; i++) {
        int n = (int)(counts[i] < n_frames ? counts[i] : n_frames);
        if (n < 0) n = 0;
        const uint16_t *item = frames + i * (int64_t)n_frames * dim;
        if (i + PREFETCH_ITEMS < n_items) {      /* the hardware prefetcher alone lags */
            const char *ahead = (const char *)(item + PREFETCH_ITEMS * (int64_t)n_frames * dim);
            for (int64_t b = 0; b < (int64_t)n_frames * dim * 2; b += 64) __builtin_prefetch(ahead + b);
        }
        if (fast == 2) dots_avx512(item, n, dim, user, scores);
        else if (fast) dots_avx2(item, n, dim, user, scores); else dots_plain(item, n, dim, user, scores);
        int best = 0; float top = -INFINITY;
        cumulative[0] = 0.f;
        for (int k = 0; k < n; k++) {
            if (scores[k] > top) { top = scores[k]; best = k; }
            cumulative[k + 1] = cumulative[k] + scores[k];
        }
        best_frame[i] = best; frame_score[i] = top;
        int length = clip_len < n ? clip_len : n, last = n - length, start = 0;
        double window_top = -INFINITY;
        for (int s = 0; s <= last; s++) {
            if (s % stride != 0 && s != last) continue;
            double mean = ((double)cumulative[s + length] - (double)cumulative[s]) /
                          (double)(length > 0 ? length : 1);
            if (mean > window_top) { window_top = mean; start = s; }
        }
        best_start[i] = start; clip_score[i] = (float)window_top;
    }
    return 0;
}

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scan", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__scan(void) { return PyModule_Create(&module); }
